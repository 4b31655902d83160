"""People's CPD records: their activities and hours for an academic year, the subject-specific
and sustained shares, hours by kind, and progress against the pro-rated entitlement.

An activity counts in the academic year its first session falls in (or, with no sessions
yet, the year it was recorded); cancelled activities count nothing. Hours are
:func:`cpd_evaluation.participants.hours.hours_subquery`'s, and every figure is summed in SQL.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, Subquery, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_common.schemas import from_row
from cpd_evaluation.activities.sustained import sustained_sql
from cpd_evaluation.entitlement import service as entitlement_service
from cpd_evaluation.models import Activity, Participant, Person
from cpd_evaluation.participants.hours import hours_subquery
from cpd_evaluation.records.errors import RecordNotFound
from cpd_evaluation.records.schemas import (
    CpdRecord,
    EntitlementProgress,
    KindHours,
    RecordActivity,
)
from cpd_evaluation.records.years import AcademicYear


async def person_for_record(
    session: AsyncSession, person_id: uuid.UUID | None, *, principal: Principal
) -> Person:
    """The person whose record the caller may read: themselves, a person of a school the
    caller leads, anyone of the trust for a trust admin. 404 otherwise, as for nobody."""
    if person_id is None:
        raise RecordNotFound("Only people have a CPD record.")
    person = await scalar_or_raise(
        session,
        select(Person).where(Person.id == person_id, Person.trust_id == principal.trust_id),
        RecordNotFound,
    )
    leads = principal.has_any("school_leader") and not principal.school_ids.isdisjoint(
        person.school_ids
    )
    if not (principal.person_id == person.id or principal.is_trust_admin or leads):
        raise RecordNotFound()
    return person


def attributed_on() -> Any:
    """The day an activity counts on: its first session, else the day it was recorded."""
    return func.coalesce(Activity.starts_on, cast(Activity.created_at, Date))


def record_rows(person: Person, year: AcademicYear) -> Select[Any]:
    hours = hours_subquery(
        Participant.person_id == person.id, Participant.trust_id == person.trust_id
    )
    return (
        select(
            Activity.id.label("activity_id"),
            Activity.title,
            Activity.kind,
            hours.c.role,
            Activity.starts_on,
            Activity.ends_on,
            hours.c.hours,
            hours.c.basis.label("hours_basis"),
            Activity.subject_specific,
            Activity.subject,
            sustained_sql().label("sustained"),
        )
        .join(hours, hours.c.activity_id == Activity.id)
        .where(
            Activity.trust_id == person.trust_id,
            Activity.status == "active",
            attributed_on().between(year.start, year.end),
        )
    )


def _share(part: Decimal, whole: Decimal) -> float | None:
    return round(float(part / whole), 4) if whole else None


async def cpd_record(session: AsyncSession, person: Person, *, year: AcademicYear) -> CpdRecord:
    rows_stmt = record_rows(person, year)
    rows = (await session.execute(rows_stmt.order_by(attributed_on(), Activity.id))).all()
    base: Subquery = rows_stmt.subquery("record")
    total, subject_specific, sustained = (
        await session.execute(
            select(
                func.coalesce(func.sum(base.c.hours), 0),
                func.coalesce(func.sum(base.c.hours).filter(base.c.subject_specific), 0),
                func.coalesce(func.sum(base.c.hours).filter(base.c.sustained), 0),
            )
        )
    ).one()
    by_kind = (
        await session.execute(
            select(base.c.kind, func.count(), func.sum(base.c.hours))
            .group_by(base.c.kind)
            .order_by(base.c.kind)
        )
    ).all()
    annual = await entitlement_service.annual_hours(session, person.trust_id)
    employed_from, share, target = (
        await session.execute(
            select(
                entitlement_service.employed_from_sql(year.start),
                entitlement_service.employed_share_sql(year.start, year.end),
                entitlement_service.target_sql(annual, year.start, year.end),
            ).where(Person.id == person.id)
        )
    ).one()
    total, target = Decimal(total), Decimal(target)
    return CpdRecord(
        person_id=person.id,
        name=person.name,
        academic_year=year.name,
        period_start=year.start,
        period_end=year.end,
        activities=[
            from_row(RecordActivity, r, hours=float(r.hours), sustained=bool(r.sustained))
            for r in rows
        ],
        total_hours=float(total),
        subject_specific_hours=float(subject_specific),
        subject_specific_share=_share(Decimal(subject_specific), total),
        sustained_hours=float(sustained),
        sustained_share=_share(Decimal(sustained), total),
        by_kind=[KindHours(kind=k, activities=int(n), hours=float(h)) for k, n, h in by_kind],
        entitlement=EntitlementProgress(
            annual_hours=float(annual),
            fte=person.fte if person.fte is not None else 1.0,
            fte_recorded=person.fte is not None,
            start_date=person.start_date,
            employed_from=employed_from,
            employed_share=round(float(share), 4),
            target_hours=float(target),
            progress=round(float(total / target), 4) if target else None,
            met=total >= target,
            remaining_hours=float(max(target - total, Decimal(0))),
        ),
    )
