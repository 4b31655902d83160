"""The rules of career plans. A career plan is private: its owner reads and writes it; a
mentor the owner shares it with reads it until the share is revoked. Nobody else sees it,
not leaders, not trust admins: to them it does not exist (404)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.academic_year import academic_year
from cpd_audit.career_plans import schemas
from cpd_audit.career_plans.errors import CareerPlanNotFound, CareerPlanYearTaken, ShareNotFound
from cpd_audit.directory import person_in_trust
from cpd_audit.models import CareerPlan, CareerPlanShare, Person
from cpd_audit.planning_roles import require_person
from cpd_common import tombstones
from cpd_common.auth import PERSON_ROLES, Principal
from cpd_common.db import one_of_a_kind, scalar_or_raise, where_given
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.pagination import PageParams, paginate
from cpd_common.schemas import from_row

OWNER_ONLY = "Only the plan's owner changes it or decides who it is shared with."
SECTIONS = (
    "came_from",
    "where_i_am",
    "aims_three_years",
    "aims_five_years",
    "strengths",
    "aspects_to_develop",
    "action_plan",
)


def _shared_with_me(person_id: uuid.UUID) -> ColumnElement[bool]:
    return CareerPlan.id.in_(
        select(CareerPlanShare.plan_id).where(CareerPlanShare.mentor_id == person_id)
    )


def visible(principal: Principal, person_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(
        CareerPlan.trust_id == principal.trust_id,
        or_(CareerPlan.owner_id == person_id, _shared_with_me(person_id)),
    )


async def get_plan(
    session: AsyncSession, plan_id: uuid.UUID, *, principal: Principal
) -> CareerPlan:
    if principal.person_id is None or not principal.has_any(*PERSON_ROLES):
        raise CareerPlanNotFound()
    return await scalar_or_raise(
        session,
        select(CareerPlan).where(CareerPlan.id == plan_id, visible(principal, principal.person_id)),
        CareerPlanNotFound,
    )


async def list_plans(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    owner_id: uuid.UUID | None = None,
) -> tuple[list[CareerPlan], str | None]:
    me = require_person(principal)
    stmt = select(CareerPlan).where(visible(principal, me))
    stmt = where_given(stmt, (CareerPlan.owner_id, owner_id))
    return await paginate(session, stmt, CareerPlan.id, page)


async def shares_of(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[schemas.ShareRead]]:
    out: dict[uuid.UUID, list[schemas.ShareRead]] = {i: [] for i in plan_ids}
    if not plan_ids:
        return out
    rows = await session.execute(
        select(CareerPlanShare, Person.name)
        .outerjoin(Person, Person.id == CareerPlanShare.mentor_id)
        .where(CareerPlanShare.plan_id.in_(list(plan_ids)))
        .order_by(CareerPlanShare.plan_id, CareerPlanShare.shared_at, CareerPlanShare.mentor_id)
    )
    for share, name in rows:
        out[share.plan_id].append(_share_read(share, name))
    return out


def _share_read(share: CareerPlanShare, mentor_name: str | None) -> schemas.ShareRead:
    return from_row(schemas.ShareRead, share, mentor_name=mentor_name)


def to_read(
    plan: CareerPlan, *, principal: Principal, shares: list[schemas.ShareRead]
) -> schemas.CareerPlanRead:
    is_owner = plan.owner_id == principal.person_id
    return from_row(
        schemas.CareerPlanRead,
        plan,
        came_from=schemas.JournalRead.model_validate(plan.came_from),
        where_i_am=schemas.JournalRead.model_validate(plan.where_i_am),
        aims_three_years=schemas.AimsRead.model_validate(plan.aims_three_years),
        aims_five_years=schemas.AimsRead.model_validate(plan.aims_five_years),
        strengths=[schemas.StrengthRead.model_validate(s) for s in plan.strengths],
        aspects_to_develop=[
            schemas.AspectToDevelopRead.model_validate(a) for a in plan.aspects_to_develop
        ],
        action_plan=[schemas.ActionStepRead.model_validate(a) for a in plan.action_plan],
        shared_with=shares if is_owner else None,
    )


async def read_plan(
    session: AsyncSession, plan: CareerPlan, *, principal: Principal
) -> schemas.CareerPlanRead:
    shares = await shares_of(session, [plan.id]) if plan.owner_id == principal.person_id else {}
    return to_read(plan, principal=principal, shares=shares.get(plan.id, []))


async def read_plans(
    session: AsyncSession, plans: Sequence[CareerPlan], *, principal: Principal
) -> list[schemas.CareerPlanRead]:
    shares = await shares_of(session, [p.id for p in plans if p.owner_id == principal.person_id])
    return [to_read(p, principal=principal, shares=shares.get(p.id, [])) for p in plans]


async def create_plan(
    session: AsyncSession, data: schemas.CareerPlanCreate, *, principal: Principal
) -> CareerPlan:
    owner_id = require_person(principal)
    dumped = data.model_dump()
    plan = CareerPlan(
        trust_id=principal.trust_id,
        owner_id=owner_id,
        title=data.title,
        start_year=data.start_year,
        **{section: dumped[section] for section in SECTIONS},
    )
    async with one_of_a_kind(session, _year_taken(data.start_year)):
        session.add(plan)
        await session.flush()
    return plan


def _year_taken(start_year: int | None) -> CareerPlanYearTaken:
    year = academic_year(start_year) if start_year is not None else "that year"
    return CareerPlanYearTaken(
        f"You already have a career plan for {year}: change that one, or give this one "
        "another year.",
        errors=[{"loc": "body.start_year", "msg": "you already have a plan for this year"}],
    )


def _require_owner(plan: CareerPlan, principal: Principal) -> None:
    if plan.owner_id != principal.person_id:
        raise Forbidden(OWNER_ONLY)


async def update_plan(
    session: AsyncSession,
    plan: CareerPlan,
    data: schemas.CareerPlanUpdate,
    *,
    principal: Principal,
) -> CareerPlan:
    _require_owner(plan, principal)
    changes = data.model_dump(exclude_unset=True)
    errors = [
        {"loc": f"body.{f}", "msg": "may not be null"}
        for f, v in changes.items()
        if v is None and f != "start_year"
    ]
    if errors:
        raise Unprocessable("The change is not valid.", errors=errors)
    # Each section given replaces the whole section, defaults included.
    full = data.model_dump()
    for field in changes:
        setattr(plan, field, full[field])
    async with one_of_a_kind(session, _year_taken(plan.start_year)):
        await session.flush()
    return plan


async def delete_plan(session: AsyncSession, plan: CareerPlan, *, principal: Principal) -> None:
    _require_owner(plan, principal)
    # Private: its tombstone goes only to the owner and the mentors it was shared with.
    mentors = await session.scalars(
        select(CareerPlanShare.mentor_id).where(CareerPlanShare.plan_id == plan.id)
    )
    await tombstones.delete(session, plan, visible_to=[plan.owner_id, *mentors])


async def share_plan(
    session: AsyncSession, plan: CareerPlan, data: schemas.ShareCreate, *, principal: Principal
) -> tuple[schemas.ShareRead, bool]:
    """Shares the plan with a mentor; sharing again is harmless. Returns the share and whether
    it is new."""
    _require_owner(plan, principal)
    mentor = await person_in_trust(session, data.mentor_id, principal.trust_id)
    msg = None
    if mentor is None:
        msg = "no such person in your trust"
    elif mentor.id == plan.owner_id:
        msg = "you cannot be your own mentor"
    elif not mentor.active:
        msg = "this person is no longer active"
    if msg is not None or mentor is None:
        raise Unprocessable(
            "The plan cannot be shared with this person.",
            errors=[{"loc": "body.mentor_id", "msg": msg or "invalid"}],
        )
    inserted = await session.scalar(
        insert(CareerPlanShare)
        .values(plan_id=plan.id, mentor_id=mentor.id)
        .on_conflict_do_nothing()
        .returning(CareerPlanShare.mentor_id)
    )
    share = await session.scalar(
        select(CareerPlanShare).where(
            CareerPlanShare.plan_id == plan.id, CareerPlanShare.mentor_id == mentor.id
        )
    )
    assert share is not None
    return _share_read(share, mentor.name), inserted is not None


async def get_share(
    session: AsyncSession, plan: CareerPlan, mentor_id: uuid.UUID, *, principal: Principal
) -> schemas.ShareRead:
    _require_owner(plan, principal)
    row = (
        await session.execute(
            select(CareerPlanShare, Person.name)
            .outerjoin(Person, Person.id == CareerPlanShare.mentor_id)
            .where(CareerPlanShare.plan_id == plan.id, CareerPlanShare.mentor_id == mentor_id)
        )
    ).first()
    if row is None:
        raise ShareNotFound()
    return _share_read(row[0], row[1])


async def list_shares(
    session: AsyncSession, plan: CareerPlan, *, principal: Principal
) -> list[schemas.ShareRead]:
    _require_owner(plan, principal)
    return (await shares_of(session, [plan.id]))[plan.id]


async def revoke_share(
    session: AsyncSession, plan: CareerPlan, mentor_id: uuid.UUID, *, principal: Principal
) -> None:
    _require_owner(plan, principal)
    removed = await session.scalar(
        delete(CareerPlanShare)
        .where(CareerPlanShare.plan_id == plan.id, CareerPlanShare.mentor_id == mentor_id)
        .returning(CareerPlanShare.mentor_id)
    )
    if removed is None:
        raise ShareNotFound("The plan is not shared with this person.")
