"""The rules of alignment plans: one per school per starting year; leaders of the school and
trust admins write them; the school's staff and governors read them."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.academic_year import academic_year
from cpd_audit.alignment_plans import schemas
from cpd_audit.alignment_plans.errors import AlignmentPlanExists, AlignmentPlanNotFound
from cpd_audit.directory import school_in_trust
from cpd_audit.models import AlignmentPlan
from cpd_audit.planning_roles import leads_school, require_planning_role
from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, where_given
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.pagination import PageParams, paginate
from cpd_common.schemas import from_row


def visible(principal: Principal) -> ColumnElement[bool]:
    in_trust = AlignmentPlan.trust_id == principal.trust_id
    if principal.is_trust_admin:
        return in_trust
    return and_(in_trust, AlignmentPlan.school_id.in_(list(principal.school_ids)))


async def get_plan(
    session: AsyncSession, plan_id: uuid.UUID, *, principal: Principal
) -> AlignmentPlan:
    if not principal.has_any("trust_admin", "school_leader", "staff", "governor"):
        raise AlignmentPlanNotFound()
    return await scalar_or_raise(
        session,
        select(AlignmentPlan).where(AlignmentPlan.id == plan_id, visible(principal)),
        AlignmentPlanNotFound,
    )


async def list_plans(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    school_id: uuid.UUID | None = None,
    start_year: int | None = None,
) -> tuple[list[AlignmentPlan], str | None]:
    require_planning_role(principal)
    stmt = select(AlignmentPlan).where(visible(principal))
    stmt = where_given(
        stmt, (AlignmentPlan.school_id, school_id), (AlignmentPlan.start_year, start_year)
    )
    return await paginate(session, stmt, AlignmentPlan.id, page)


def to_read(plan: AlignmentPlan) -> schemas.AlignmentPlanRead:
    return from_row(
        schemas.AlignmentPlanRead,
        plan,
        academic_years=schemas.AcademicYears(
            this_year=academic_year(plan.start_year),
            next_year=academic_year(plan.start_year + 1),
            year_after=academic_year(plan.start_year + 2),
        ),
        grid=schemas.AlignmentGridRead.model_validate(plan.grid),
    )


async def create_plan(
    session: AsyncSession, data: schemas.AlignmentPlanCreate, *, principal: Principal
) -> AlignmentPlan:
    require_planning_role(principal)
    if not await school_in_trust(session, data.school_id, principal.trust_id):
        raise Unprocessable(
            "The alignment plan is not valid.",
            errors=[{"loc": "body.school_id", "msg": "no such school in your trust"}],
        )
    if not leads_school(principal, data.school_id):
        raise Forbidden("Only leaders of the school and trust admins write its alignment plan.")
    plan = AlignmentPlan(
        trust_id=principal.trust_id,
        school_id=data.school_id,
        start_year=data.start_year,
        title=data.title
        or f"Alignment framework {academic_year(data.start_year)} to "
        f"{academic_year(data.start_year + 2)}",
        notes=data.notes,
        grid=data.grid.model_dump(),
    )
    try:
        async with session.begin_nested():
            session.add(plan)
            await session.flush()
    except IntegrityError as exc:
        raise AlignmentPlanExists(
            f"The school already has an alignment plan starting {academic_year(data.start_year)}."
        ) from exc
    return plan


def _merge(current: dict[str, Any], patch: dict[str, Any], empty: dict[str, Any]) -> None:
    """JSON merge patch over the grid: ``null`` empties that part, absent keys stay."""
    for key, value in patch.items():
        if value is None:
            current[key] = copy.deepcopy(empty[key])
        elif isinstance(value, dict):
            _merge(current[key], value, empty[key])
        else:
            current[key] = value


async def update_plan(
    session: AsyncSession,
    plan: AlignmentPlan,
    data: schemas.AlignmentPlanUpdate,
    *,
    principal: Principal,
) -> AlignmentPlan:
    changes = data.model_dump(exclude_unset=True)
    errors = [
        {"loc": f"body.{f}", "msg": "may not be null"}
        for f in ("title", "notes")
        if f in changes and changes[f] is None
    ]
    if errors:
        raise Unprocessable("The change is not valid.", errors=errors)
    if not leads_school(principal, plan.school_id):
        raise Forbidden("Only leaders of the school and trust admins write its alignment plan.")
    if "title" in changes:
        plan.title = changes["title"]
    if "notes" in changes:
        plan.notes = changes["notes"]
    if "grid" in changes:
        grid = copy.deepcopy(plan.grid)
        empty = schemas.AlignmentGrid().model_dump()
        _merge(grid, changes["grid"] or {k: None for k in empty}, empty)
        plan.grid = grid
    await session.flush()
    return plan


async def delete_plan(session: AsyncSession, plan: AlignmentPlan, *, principal: Principal) -> None:
    if not leads_school(principal, plan.school_id):
        raise Forbidden("Only leaders of the school and trust admins delete its alignment plan.")
    # Listed to trust admins and the school's people (visible).
    await tombstones.delete(
        session,
        plan,
        visible_to=tombstones.audience(
            roles=("trust_admin",),
            school_roles=("school_leader", "staff", "governor"),
            schools=[plan.school_id],
        ),
    )
