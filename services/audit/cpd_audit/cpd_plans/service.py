"""The rules of strategic CPD plans: one per school per academic year, read and written by
the school's leaders and trust admins (rows name individual needs, so no one else sees
them). Totals per month, per need and per funding source are computed in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, false, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.academic_year import academic_year, format_month, in_academic_year, parse_month
from cpd_audit.cpd_plans import schemas
from cpd_audit.cpd_plans.errors import CpdPlanExists, CpdPlanNotFound, CpdPlanRowNotFound
from cpd_audit.directory import person_in_trust, school_in_trust
from cpd_audit.models import CpdPlan, CpdPlanRow, Need
from cpd_audit.planning_roles import leads_school, led_school_ids
from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import known_ids, scalar_or_raise, utcnow, where_given
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.pagination import PageParams, paginate
from cpd_common.schemas import from_row

LEADERS_ONLY = "Only the school's leaders and trust admins see and write its CPD plan."


def visible(principal: Principal) -> ColumnElement[bool]:
    in_trust = CpdPlan.trust_id == principal.trust_id
    if principal.is_trust_admin:
        return in_trust
    led = led_school_ids(principal)
    return and_(in_trust, CpdPlan.school_id.in_(led) if led else false())


async def get_plan(session: AsyncSession, plan_id: uuid.UUID, *, principal: Principal) -> CpdPlan:
    return await scalar_or_raise(
        session, select(CpdPlan).where(CpdPlan.id == plan_id, visible(principal)), CpdPlanNotFound
    )


async def get_row(session: AsyncSession, plan: CpdPlan, row_id: uuid.UUID) -> CpdPlanRow:
    return await scalar_or_raise(
        session,
        select(CpdPlanRow).where(CpdPlanRow.id == row_id, CpdPlanRow.plan_id == plan.id),
        CpdPlanRowNotFound,
    )


async def list_plans(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    school_id: uuid.UUID | None = None,
    start_year: int | None = None,
) -> tuple[list[CpdPlan], str | None]:
    if not principal.has_any("trust_admin", "school_leader"):
        raise Forbidden(LEADERS_ONLY)
    stmt = select(CpdPlan).where(visible(principal))
    stmt = where_given(stmt, (CpdPlan.school_id, school_id), (CpdPlan.start_year, start_year))
    return await paginate(session, stmt, CpdPlan.id, page)


async def _check_rows(
    session: AsyncSession,
    rows: Sequence[schemas.CpdPlanRowCreate | schemas.CpdPlanRowUpdate],
    *,
    school_id: uuid.UUID,
    start_year: int,
    principal: Principal,
    loc: str,
    indexed: bool,
) -> list[dict[str, str]]:
    """Each row's need must be a need of the plan's school, its month inside the plan's
    academic year and its responsible person (if named) someone in the trust."""
    errors: list[dict[str, str]] = []
    need_ids = {r.need_id for r in rows if r.need_id is not None}
    known = await known_ids(
        session, Need.id, need_ids, Need.trust_id == principal.trust_id, Need.school_id == school_id
    )
    for i, row in enumerate(rows):
        prefix = f"{loc}.{i}" if indexed else loc
        if row.need_id is not None and row.need_id not in known:
            errors.append({"loc": f"{prefix}.need_id", "msg": "no such need at this school"})
        if row.month is not None and not in_academic_year(parse_month(row.month), start_year):
            errors.append(
                {
                    "loc": f"{prefix}.month",
                    "msg": f"not in the academic year {academic_year(start_year)} (September to August)",
                }
            )
        if (
            row.responsible_person_id is not None
            and await person_in_trust(session, row.responsible_person_id, principal.trust_id)
            is None
        ):
            errors.append(
                {"loc": f"{prefix}.responsible_person_id", "msg": "no such person in your trust"}
            )
    return errors


def _new_row(plan: CpdPlan, data: schemas.CpdPlanRowCreate) -> CpdPlanRow:
    return CpdPlanRow(
        trust_id=plan.trust_id,
        plan_id=plan.id,
        need_id=data.need_id,
        month=parse_month(data.month),
        activity=data.activity,
        responsible=data.responsible,
        responsible_person_id=data.responsible_person_id,
        cost=data.cost,
        funding_source=data.funding_source,
        notes=data.notes,
    )


async def create_plan(
    session: AsyncSession, data: schemas.CpdPlanCreate, *, principal: Principal
) -> CpdPlan:
    if not await school_in_trust(session, data.school_id, principal.trust_id):
        raise Unprocessable(
            "The CPD plan is not valid.",
            errors=[{"loc": "body.school_id", "msg": "no such school in your trust"}],
        )
    if not leads_school(principal, data.school_id):
        raise Forbidden(LEADERS_ONLY)
    errors = await _check_rows(
        session,
        data.rows,
        school_id=data.school_id,
        start_year=data.start_year,
        principal=principal,
        loc="body.rows",
        indexed=True,
    )
    if errors:
        raise Unprocessable("The CPD plan is not valid.", errors=errors)
    plan = CpdPlan(
        trust_id=principal.trust_id,
        school_id=data.school_id,
        start_year=data.start_year,
        title=data.title or f"Strategic CPD plan {academic_year(data.start_year)}",
        notes=data.notes,
    )
    try:
        async with session.begin_nested():
            session.add(plan)
            await session.flush()
    except IntegrityError as exc:
        raise CpdPlanExists(
            f"The school already has a CPD plan for {academic_year(data.start_year)}."
        ) from exc
    session.add_all([_new_row(plan, r) for r in data.rows])
    await session.flush()
    return plan


async def update_plan(session: AsyncSession, plan: CpdPlan, data: schemas.CpdPlanUpdate) -> CpdPlan:
    changes = data.model_dump(exclude_unset=True)
    errors = [
        {"loc": f"body.{f}", "msg": "may not be null"}
        for f in ("title", "notes")
        if f in changes and changes[f] is None
    ]
    if errors:
        raise Unprocessable("The change is not valid.", errors=errors)
    for field, value in changes.items():
        setattr(plan, field, value)
    await session.flush()
    return plan


async def delete_plan(session: AsyncSession, plan: CpdPlan) -> None:
    # Listed to trust admins and the school's leaders (visible).
    await tombstones.delete(
        session,
        plan,
        visible_to=tombstones.audience(
            roles=("trust_admin",), school_roles=("school_leader",), schools=[plan.school_id]
        ),
    )


async def _check_row(
    session: AsyncSession,
    plan: CpdPlan,
    data: schemas.CpdPlanRowCreate | schemas.CpdPlanRowUpdate,
    *,
    principal: Principal,
) -> list[dict[str, str]]:
    """:func:`_check_rows` for one row of an existing plan, sent as the whole body."""
    return await _check_rows(
        session,
        [data],
        school_id=plan.school_id,
        start_year=plan.start_year,
        principal=principal,
        loc="body",
        indexed=False,
    )


async def add_row(
    session: AsyncSession, plan: CpdPlan, data: schemas.CpdPlanRowCreate, *, principal: Principal
) -> CpdPlanRow:
    errors = await _check_row(session, plan, data, principal=principal)
    if errors:
        raise Unprocessable("The row is not valid.", errors=errors)
    row = _new_row(plan, data)
    session.add(row)
    plan.updated_at = utcnow()
    await session.flush()
    return row


async def update_row(
    session: AsyncSession,
    plan: CpdPlan,
    row: CpdPlanRow,
    data: schemas.CpdPlanRowUpdate,
    *,
    principal: Principal,
) -> CpdPlanRow:
    changes = data.model_dump(exclude_unset=True)
    errors = [
        {"loc": f"body.{f}", "msg": "may not be null"}
        for f in ("need_id", "month", "activity", "responsible", "cost", "funding_source", "notes")
        if f in changes and changes[f] is None
    ]
    errors += await _check_row(session, plan, data, principal=principal)
    if errors:
        raise Unprocessable("The change is not valid.", errors=errors)
    for field, value in changes.items():
        setattr(row, field, parse_month(value) if field == "month" else value)
    plan.updated_at = utcnow()
    await session.flush()
    return row


async def delete_row(session: AsyncSession, plan: CpdPlan, row: CpdPlanRow) -> None:
    await session.delete(row)
    plan.updated_at = utcnow()
    await session.flush()


def row_read(row: CpdPlanRow) -> schemas.CpdPlanRowRead:
    return from_row(schemas.CpdPlanRowRead, row, month=format_month(row.month))


def summary(plan: CpdPlan) -> schemas.CpdPlanSummary:
    return from_row(schemas.CpdPlanSummary, plan, academic_year=academic_year(plan.start_year))


# Every month of the academic year, September to August, with that month's rows (zero when
# there are none).
_MONTH_TOTALS = text(
    """
    SELECT m.month::date AS month, count(r.id) AS rows, coalesce(sum(r.cost), 0) AS cost
    FROM generate_series(make_date(:start_year, 9, 1), make_date(:start_year + 1, 8, 1),
                         interval '1 month') AS m(month)
    LEFT JOIN cpd_plan_rows r ON r.plan_id = :plan_id AND r.month = m.month::date
    GROUP BY m.month
    ORDER BY m.month
    """
)
# One pass over the plan's rows: totals per need, per funding source and overall.
# GROUPING(need, funding) is 1 for the per-need sets, 2 per funding source, 3 overall.
_GROUPED_TOTALS = text(
    """
    SELECT GROUPING(r.need_id, r.funding_source) AS grouping_id,
           r.need_id, n.title AS need_title, r.funding_source,
           count(*) AS rows, coalesce(sum(r.cost), 0) AS cost
    FROM cpd_plan_rows r
    LEFT JOIN needs n ON n.id = r.need_id
    WHERE r.plan_id = :plan_id
    GROUP BY GROUPING SETS ((r.need_id, n.title), (r.funding_source), ())
    ORDER BY grouping_id, cost DESC, r.need_id, r.funding_source
    """
)


async def totals(session: AsyncSession, plan: CpdPlan) -> schemas.CpdPlanTotals:
    months = await session.execute(
        _MONTH_TOTALS, {"plan_id": plan.id, "start_year": plan.start_year}
    )
    by_month = [
        schemas.MonthTotal(month=format_month(m.month), rows=m.rows, cost=m.cost) for m in months
    ]
    by_need: list[schemas.NeedTotal] = []
    by_funding: list[schemas.FundingTotal] = []
    overall_rows, overall_cost = 0, Decimal("0")
    for g in await session.execute(_GROUPED_TOTALS, {"plan_id": plan.id}):
        if g.grouping_id == 1:
            by_need.append(from_row(schemas.NeedTotal, g))
        elif g.grouping_id == 2:
            by_funding.append(from_row(schemas.FundingTotal, g))
        else:
            overall_rows, overall_cost = g.rows, g.cost
    return schemas.CpdPlanTotals(
        rows=overall_rows,
        cost=overall_cost,
        by_month=by_month,
        by_need=by_need,
        by_funding_source=by_funding,
    )


async def plan_read(session: AsyncSession, plan: CpdPlan) -> schemas.CpdPlanRead:
    rows = (
        await session.scalars(
            select(CpdPlanRow)
            .where(CpdPlanRow.plan_id == plan.id)
            .order_by(CpdPlanRow.month, CpdPlanRow.id)
        )
    ).all()
    return schemas.CpdPlanRead(
        **summary(plan).model_dump(),
        rows=[row_read(r) for r in rows],
        totals=await totals(session, plan),
    )
