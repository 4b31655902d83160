"""Each school's CPD budget per academic year, and what is committed and spent against it.

Spend lines, in one SQL union, each dated and charged to one school:
- approved requests that the school pays (not trust-funded): their cost, committed until
  their last day has passed, then spent;
- activities recorded by hand (not runs of the offer, whose cost arrives through the
  requests that booked them), split equally between their schools: fees, materials, supply
  cover and released staff time (its hours at the trust's hourly staff cost from
  ``/v1/evaluation-settings``, when set), spent once they started, committed before.
A line falls in the academic year of its first day. ``by_need`` splits a line equally
between the needs it meets (``unassigned`` when none); ``by_format`` groups by programme
format (recorded activities by the format their kind usually has; study as
``professional_study``).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, array, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal
from cpd_common.db import utcnow, where_given
from cpd_common.errors import Forbidden, NotFound
from cpd_evaluation.budgets.schemas import SchoolBudget, Spend, TrustBudgets
from cpd_evaluation.evaluation_settings import service as settings_service
from cpd_evaluation.models import Activity, ActivityNeed, School
from cpd_evaluation.models.offer import Budget, CpdRequest, Programme, ProgrammeRun
from cpd_evaluation.records.years import AcademicYear
from cpd_evaluation.terms.offer import KIND_FORMATS, PROFESSIONAL_STUDY, UNASSIGNED_NEED

CENT = Decimal("0.01")


class SchoolNotFound(NotFound):
    code, title = "school-not-found", "School not found"


class CannotSeeBudgets(Forbidden):
    code, title = "cannot-see-budgets", "Only leaders and trust admins see budgets"


def budget_schools(principal: Principal) -> Any:
    """The schools whose budgets the caller sees and sets."""
    if principal.is_trust_admin:
        return School.trust_id == principal.trust_id
    if principal.has_any("school_leader"):
        return and_(
            School.trust_id == principal.trust_id, School.id.in_(list(principal.school_ids))
        )
    raise CannotSeeBudgets("School leaders and trust admins see and set CPD budgets.")


def _lines(trust_id: uuid.UUID, year: AcademicYear, today: date, hourly: Decimal) -> Any:
    request_format = func.coalesce(Programme.format, literal(PROFESSIONAL_STUDY))
    requests = (
        select(
            CpdRequest.school_id.label("school_id"),
            CpdRequest.cost.label("amount"),
            (CpdRequest.ends_on < today).label("taken_place"),
            cast(request_format, String).label("format"),
            CpdRequest.need_ids.label("need_ids"),
        )
        .outerjoin(ProgrammeRun, ProgrammeRun.id == CpdRequest.run_id)
        .outerjoin(Programme, Programme.id == ProgrammeRun.programme_id)
        .where(
            CpdRequest.trust_id == trust_id,
            CpdRequest.status == "approved",
            ~CpdRequest.decided_by_trust,
            CpdRequest.starts_on.between(year.start, year.end),
        )
    )
    kind_format = case(
        *((Activity.kind == kind, literal(fmt)) for kind, fmt in KIND_FORMATS.items()),
        else_=literal("external"),
    )
    needs = (
        select(func.coalesce(func.array_agg(ActivityNeed.need_id), cast(array([]), ARRAY(Uuid))))
        .where(ActivityNeed.activity_id == Activity.id)
        .scalar_subquery()
    )
    school = func.unnest(Activity.school_ids).table_valued("school_id").render_derived()
    activities = (
        select(
            school.c.school_id,
            (
                (
                    Activity.fees
                    + Activity.materials_cost
                    + Activity.supply_cover_cost
                    + Activity.release_time_hours * hourly
                )
                / func.cardinality(Activity.school_ids)
            ).label("amount"),
            (Activity.starts_on <= today).label("taken_place"),
            cast(kind_format, String).label("format"),
            needs.label("need_ids"),
        )
        .select_from(Activity)
        .join(school, literal(True))
        .where(
            Activity.trust_id == trust_id,
            Activity.status == "active",
            Activity.starts_on.between(year.start, year.end),
            ~Activity.id.in_(
                select(ProgrammeRun.activity_id).where(ProgrammeRun.trust_id == trust_id)
            ),
        )
    )
    return union_all(requests, activities).subquery("spend_lines")


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


async def figures(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID,
    schools: list[tuple[uuid.UUID, str]],
    year: AcademicYear,
    today: date | None = None,
) -> list[SchoolBudget]:
    """Three round trips whatever the number of schools: totals, by format, by need."""
    today = today or utcnow().date()
    ids = [s for s, _ in schools]
    hourly = await settings_service.hourly_staff_cost(session, trust_id) or Decimal(0)
    lines = _lines(trust_id, year, today, hourly)
    in_schools = lines.c.school_id.in_(ids or [uuid.UUID(int=0)])
    committed = func.coalesce(func.sum(lines.c.amount).filter(~lines.c.taken_place), 0)
    spent = func.coalesce(func.sum(lines.c.amount).filter(lines.c.taken_place), 0)
    totals = {
        r.school_id: r
        for r in await session.execute(
            select(lines.c.school_id, committed.label("committed"), spent.label("spent"))
            .where(in_schools)
            .group_by(lines.c.school_id)
        )
    }
    by_format: dict[uuid.UUID, list[Spend]] = {}
    for r in await session.execute(
        select(lines.c.school_id, lines.c.format, committed.label("c"), spent.label("s"))
        .where(in_schools)
        .group_by(lines.c.school_id, lines.c.format)
        .order_by(lines.c.school_id, lines.c.format)
    ):
        by_format.setdefault(r.school_id, []).append(
            Spend(key=r.format, committed=_money(r.c), spent=_money(r.s))
        )
    need = (
        func.unnest(
            case(
                (func.cardinality(lines.c.need_ids) > 0, lines.c.need_ids),
                else_=cast(array([None]), ARRAY(Uuid)),
            )
        )
        .table_valued("need_id")
        .render_derived()
    )
    share = lines.c.amount / func.greatest(func.cardinality(lines.c.need_ids), 1)
    by_need: dict[uuid.UUID, list[Spend]] = {}
    for r in await session.execute(
        select(
            lines.c.school_id,
            need.c.need_id,
            func.coalesce(func.sum(share).filter(~lines.c.taken_place), 0).label("c"),
            func.coalesce(func.sum(share).filter(lines.c.taken_place), 0).label("s"),
        )
        .select_from(lines)
        .join(need, literal(True))
        .where(in_schools)
        .group_by(lines.c.school_id, need.c.need_id)
        .order_by(lines.c.school_id, need.c.need_id.nulls_last())
    ):
        by_need.setdefault(r.school_id, []).append(
            Spend(
                key=str(r.need_id) if r.need_id else UNASSIGNED_NEED,
                committed=_money(r.c),
                spent=_money(r.s),
            )
        )
    amounts = {
        b.school_id: b.amount
        for b in await session.scalars(
            select(Budget).where(
                Budget.trust_id == trust_id,
                Budget.academic_year == year.name,
                Budget.school_id.in_(ids or [uuid.UUID(int=0)]),
            )
        )
    }
    out = []
    for school_id, name in schools:
        t = totals.get(school_id)
        c, s = _money(t.committed if t else 0), _money(t.spent if t else 0)
        amount = amounts.get(school_id)
        out.append(
            SchoolBudget(
                school_id=school_id,
                school_name=name,
                academic_year=year.name,
                amount=_money(amount) if amount is not None else None,
                committed=c,
                spent=s,
                remaining=_money(amount) - c - s if amount is not None else None,
                by_need=by_need.get(school_id, []),
                by_format=by_format.get(school_id, []),
            )
        )
    return out


async def visible_schools(
    session: AsyncSession, principal: Principal, school_id: uuid.UUID | None = None
) -> list[tuple[uuid.UUID, str]]:
    stmt = select(School.id, School.name).where(budget_schools(principal))
    stmt = where_given(stmt, (School.id, school_id))
    rows = [(r.id, r.name) for r in await session.execute(stmt.order_by(School.name, School.id))]
    if school_id is not None and not rows:
        raise SchoolNotFound("No such school among those whose budgets you see.")
    return rows


async def trust_view(
    session: AsyncSession, principal: Principal, year: AcademicYear
) -> TrustBudgets:
    schools = await visible_schools(session, principal)
    rows = await figures(session, trust_id=principal.trust_id, schools=schools, year=year)
    amount = sum((r.amount or Decimal(0) for r in rows), Decimal(0))
    committed = sum((r.committed for r in rows), Decimal(0))
    spent = sum((r.spent for r in rows), Decimal(0))
    return TrustBudgets(
        academic_year=year.name,
        schools=rows,
        amount=amount,
        committed=committed,
        spent=spent,
        remaining=amount - committed - spent,
    )


async def school_view(
    session: AsyncSession, principal: Principal, school_id: uuid.UUID, year: AcademicYear
) -> SchoolBudget:
    schools = await visible_schools(session, principal, school_id)
    return (await figures(session, trust_id=principal.trust_id, schools=schools, year=year))[0]


async def set_budget(
    session: AsyncSession,
    principal: Principal,
    school_id: uuid.UUID,
    year: AcademicYear,
    amount: Decimal,
) -> SchoolBudget:
    await visible_schools(session, principal, school_id)
    stmt = insert(Budget).values(
        trust_id=principal.trust_id,
        school_id=school_id,
        academic_year=year.name,
        amount=amount,
        set_by=principal.person_id,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["school_id", "academic_year"],
            set_={"amount": amount, "set_by": principal.person_id, "updated_at": utcnow()},
        )
    )
    return await school_view(session, principal, school_id, year)


async def approval_warnings(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID,
    school_id: uuid.UUID,
    year: AcademicYear,
    cost: Decimal,
) -> list[str]:
    """Warnings (never refusals) for approving ``cost`` against the school's budget."""
    name = await session.scalar(select(School.name).where(School.id == school_id))
    row = (await figures(session, trust_id=trust_id, schools=[(school_id, name or "")], year=year))[
        0
    ]
    if row.amount is None:
        return ["no_budget"]
    if row.remaining is not None and cost > row.remaining:
        return ["over_budget"]
    return []
