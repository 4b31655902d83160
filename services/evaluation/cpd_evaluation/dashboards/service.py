"""Dashboards for an academic year: the trust's schools side by side, or one school.

Every figure is aggregated in SQL, one round trip per figure group (people and hours;
activities and spend; coaching), for every school and the trust total at once. A figure
built from fewer than :data:`MIN_GROUP` people is withheld, with the reason (DESIGN.md 7).

People are staff: the staff role, an FTE above 0 (1.0 when the directory does not say),
employed by the end of the year. Their hours are counted as everywhere else
(``participants.hours``), on activities attributed to the year as in CPD records, and their
targets are the pro-rated entitlement of ``entitlement.service``. A person of two schools
counts in both schools and once in the trust. An activity of several schools shares its cost
between them equally.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CTE,
    Numeric,
    Select,
    Subquery,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_evaluation.activities.sustained import sustained_sql
from cpd_evaluation.dashboards.errors import SchoolNotFound, TrustAdminsOnly
from cpd_evaluation.dashboards.schemas import (
    ActivityFigures,
    CoachingFigures,
    Figures,
    HoursFigures,
    KindCount,
    PeopleFigures,
    Quartiles,
    SchoolDashboard,
    SpendFigures,
    TrustDashboard,
)
from cpd_evaluation.entitlement import service as entitlement_service
from cpd_evaluation.models import (
    Activity,
    Participant,
    Person,
    School,
    SourceHours,
)
from cpd_evaluation.models.voice import CoachingAgreement, CoachingSession
from cpd_evaluation.participants.hours import TOTAL, hours_subquery
from cpd_evaluation.records.service import attributed_on
from cpd_evaluation.records.years import AcademicYear
from cpd_evaluation.terms.voice import MIN_GROUP

TRUST = None  # the key of the trust total among the per-school rows
RECENT_DAYS = 30


def attributed_in_year(year: AcademicYear) -> Any:
    return attributed_on().between(year.start, year.end)


def completed_sql() -> Any:
    """Whether an activity from the lesson study service completed: its total hours arrived
    (``cpd.lessonstudy.study.completed``)."""
    return exists().where(
        Participant.activity_id == Activity.id,
        SourceHours.participant_id == Participant.id,
        SourceHours.source_ref == TOTAL,
    )


def staff_cte(trust_id: uuid.UUID, year: AcademicYear, annual: Decimal) -> CTE:
    """Staff of the trust in the year, one row each: ``person_id``, ``school_ids``, ``fte``,
    ``target`` (pro-rated entitlement), ``hours``, ``subject`` and ``sustained`` hours (the
    QA metrics count from the same rows)."""
    per_participant = hours_subquery(Participant.trust_id == trust_id, trust_id=trust_id)
    person_hours = (
        select(
            per_participant.c.person_id,
            func.sum(per_participant.c.hours).label("hours"),
            func.sum(per_participant.c.hours).filter(Activity.subject_specific).label("subject"),
            func.sum(per_participant.c.hours).filter(sustained_sql()).label("sustained"),
        )
        .join(Activity, Activity.id == per_participant.c.activity_id)
        .where(
            Activity.trust_id == trust_id,
            Activity.status == "active",
            attributed_in_year(year),
            per_participant.c.person_id.is_not(None),
        )
        .group_by(per_participant.c.person_id)
        .subquery("person_hours")
    )
    fte = cast(func.coalesce(Person.fte, 1.0), Numeric)
    return (
        select(
            Person.id.label("person_id"),
            Person.school_ids.label("school_ids"),
            fte.label("fte"),
            entitlement_service.target_sql(annual, year.start, year.end).label("target"),
            func.coalesce(person_hours.c.hours, 0).label("hours"),
            func.coalesce(person_hours.c.subject, 0).label("subject"),
            func.coalesce(person_hours.c.sustained, 0).label("sustained"),
        )
        .outerjoin(person_hours, person_hours.c.person_id == Person.id)
        .where(
            Person.trust_id == trust_id,
            Person.active.is_(True),
            Person.roles.contains(["staff"]),
            func.coalesce(Person.fte, 1.0) > 0,
            or_(Person.start_date.is_(None), Person.start_date <= year.end),
        )
        .cte("staff")
    )


def _people_columns(src: Subquery | CTE) -> list[Any]:
    per_fte = src.c.hours / src.c.fte
    return [
        func.count().label("staff"),
        func.sum(src.c.fte).label("fte"),
        func.count().filter(src.c.hours > 0).label("covered"),
        func.percentile_cont(0.25).within_group(per_fte).label("q1"),
        func.percentile_cont(0.5).within_group(per_fte).label("q2"),
        func.percentile_cont(0.75).within_group(per_fte).label("q3"),
        func.count().filter(src.c.hours >= src.c.target).label("meeting"),
        func.sum(src.c.hours).label("hours"),
        func.sum(src.c.subject).label("subject"),
        func.sum(src.c.sustained).label("sustained"),
    ]


def unnest_schools(src: CTE, *columns: str) -> Subquery:
    """``src`` once per school of each row (``school_id`` first)."""
    return select(
        func.unnest(src.c.school_ids).label("school_id"), *(src.c[c] for c in columns)
    ).subquery(f"{src.name}_by_school")


def with_trust_total(
    total: Select[Any] | None, per_school: Select[Any], school_ids: list[uuid.UUID]
) -> Any:
    """The trust total (school_id null) and each wanted school, in one statement."""
    school_col = per_school.selected_columns[0]
    per_school = per_school.where(school_col.in_(school_ids))
    return per_school if total is None else union_all(total, per_school)


async def _people_and_hours(
    session: AsyncSession,
    trust_id: uuid.UUID,
    year: AcademicYear,
    school_ids: list[uuid.UUID],
    *,
    with_total: bool,
) -> dict[uuid.UUID | None, Any]:
    annual = await entitlement_service.annual_hours(session, trust_id)
    staff = staff_cte(trust_id, year, annual)
    by_school = unnest_schools(staff, "fte", "target", "hours", "subject", "sustained")
    total = (
        select(literal(None, Uuid).label("school_id"), *_people_columns(staff))
        if with_total
        else None
    )
    per_school = select(by_school.c.school_id, *_people_columns(by_school)).group_by(
        by_school.c.school_id
    )
    rows = await session.execute(with_trust_total(total, per_school, school_ids))
    return {r.school_id: r for r in rows}


def _share(part: Any, whole: Any) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _people(row: Any) -> tuple[PeopleFigures, HoursFigures]:
    if row is None or row.staff < MIN_GROUP:
        staff = 0 if row is None else int(row.staff)
        reason = f"Fewer than {MIN_GROUP} staff: figures about them are withheld."
        return (
            PeopleFigures(staff=staff, withheld_reason=reason),
            HoursFigures(withheld_reason=reason),
        )
    people = PeopleFigures(
        staff=int(row.staff),
        fte=round(float(row.fte), 2),
        staff_covered=int(row.covered),
        covered_share=_share(row.covered, row.staff),
        hours_per_fte=Quartiles(
            lower_quartile=round(float(row.q1), 2),
            median=round(float(row.q2), 2),
            upper_quartile=round(float(row.q3), 2),
        ),
        meeting_entitlement_share=_share(row.meeting, row.staff),
    )
    if row.covered < MIN_GROUP:
        return people, HoursFigures(
            withheld_reason=f"Fewer than {MIN_GROUP} staff had CPD hours this year: the "
            "shares of their hours are withheld."
        )
    subject = _share(row.subject, row.hours)
    sustained = _share(row.sustained, row.hours)
    return people, HoursFigures(
        total_hours=round(float(row.hours), 2),
        subject_specific_share=subject,
        meets_subject_aim=subject is not None and subject >= 0.5,
        sustained_share=sustained,
        one_off_share=None if sustained is None else round(1 - sustained, 4),
    )


async def _activities(
    session: AsyncSession,
    trust_id: uuid.UUID,
    year: AcademicYear,
    school_ids: list[uuid.UUID],
    *,
    with_total: bool,
) -> dict[uuid.UUID | None, list[Any]]:
    cost = Activity.fees + Activity.materials_cost + Activity.supply_cover_cost
    completed = completed_sql()
    acts = (
        select(
            Activity.kind.label("kind"),
            cost.label("cost"),
            (cost / func.cardinality(Activity.school_ids)).label("share"),
            Activity.school_ids.label("school_ids"),
            completed.label("completed"),
        )
        .where(Activity.trust_id == trust_id, Activity.status == "active", attributed_in_year(year))
        .cte("year_activities")
    )
    by_school = unnest_schools(acts, "kind", "share", "completed")
    total = (
        select(
            literal(None, Uuid).label("school_id"),
            acts.c.kind,
            acts.c.completed,
            func.count().label("n"),
            func.sum(acts.c.cost).label("cost"),
        ).group_by(acts.c.kind, acts.c.completed)
        if with_total
        else None
    )
    per_school = select(
        by_school.c.school_id,
        by_school.c.kind,
        by_school.c.completed,
        func.count().label("n"),
        func.sum(by_school.c.share).label("cost"),
    ).group_by(by_school.c.school_id, by_school.c.kind, by_school.c.completed)
    out: dict[uuid.UUID | None, list[Any]] = defaultdict(list)
    for r in await session.execute(with_trust_total(total, per_school, school_ids)):
        out[r.school_id].append(r)
    return out


def _activity_figures(
    rows: list[Any], people: PeopleFigures
) -> tuple[ActivityFigures, SpendFigures]:
    kinds: dict[str, int] = defaultdict(int)
    running = completed = 0
    spend = Decimal(0)
    for r in rows:
        kinds[r.kind] += int(r.n)
        spend += Decimal(r.cost or 0)
        if r.kind == "lesson_study":
            if r.completed:
                completed += int(r.n)
            else:
                running += int(r.n)
    total = round(float(spend), 2)
    if people.withheld_reason or not people.fte:
        spend_figures = SpendFigures(
            total=total,
            withheld_reason=people.withheld_reason or "No staff FTE recorded.",
        )
    else:
        spend_figures = SpendFigures(total=total, per_fte=round(total / people.fte, 2))
    return (
        ActivityFigures(
            activities=sum(kinds.values()),
            by_kind=[KindCount(kind=k, activities=n) for k, n in sorted(kinds.items())],
            lesson_studies_running=running,
            lesson_studies_completed=completed,
        ),
        spend_figures,
    )


async def _coaching(
    session: AsyncSession,
    trust_id: uuid.UUID,
    year: AcademicYear,
    school_ids: list[uuid.UUID],
    *,
    with_total: bool,
) -> dict[uuid.UUID | None, Any]:
    in_year = CoachingSession.held_on.between(year.start, year.end)
    log = (
        select(
            CoachingSession.activity_id.label("activity_id"),
            CoachingSession.held_on.label("held_on"),
            CoachingSession.minutes.label("minutes"),
            (
                CoachingSession.held_on
                - func.lag(CoachingSession.held_on).over(
                    partition_by=CoachingSession.activity_id,
                    order_by=(CoachingSession.held_on, CoachingSession.id),
                )
            ).label("gap"),
        )
        .where(CoachingSession.trust_id == trust_id, in_year)
        .subquery("log")
    )
    pairs = (
        select(
            CoachingAgreement.activity_id.label("activity_id"),
            Activity.school_ids.label("school_ids"),
            func.count(log.c.held_on).label("sessions"),
            func.coalesce(func.sum(log.c.minutes), 0).label("minutes"),
            func.coalesce(func.sum(log.c.gap), 0).label("gap_sum"),
            func.count(log.c.gap).label("gaps"),
            func.max(log.c.held_on).label("last"),
        )
        .join(Activity, Activity.id == CoachingAgreement.activity_id)
        .outerjoin(log, log.c.activity_id == CoachingAgreement.activity_id)
        .where(CoachingAgreement.trust_id == trust_id, Activity.status == "active")
        .group_by(CoachingAgreement.activity_id, Activity.school_ids)
        .having(or_(func.count(log.c.held_on) > 0, func.bool_or(attributed_in_year(year))))
        .cte("pairs")
    )
    recent = utcnow().date() - timedelta(days=RECENT_DAYS)

    def columns(src: Any) -> list[Any]:
        return [
            func.count().label("pairs"),
            func.sum(src.c.sessions).label("sessions"),
            func.sum(src.c.minutes).label("minutes"),
            func.round(
                cast(func.sum(src.c.gap_sum), Numeric) / func.nullif(func.sum(src.c.gaps), 0), 1
            ).label("mean_gap"),
            func.count().filter(src.c.last >= recent).label("recent"),
        ]

    by_school = unnest_schools(pairs, "sessions", "minutes", "gap_sum", "gaps", "last")
    total = select(literal(None, Uuid).label("school_id"), *columns(pairs)) if with_total else None
    per_school = select(by_school.c.school_id, *columns(by_school)).group_by(by_school.c.school_id)
    return {
        r.school_id: r
        for r in await session.execute(with_trust_total(total, per_school, school_ids))
    }


def _coaching_figures(row: Any) -> CoachingFigures:
    pairs = 0 if row is None else int(row.pairs)
    # Two people per pair: below MIN_GROUP people the cadence would describe one pair.
    if pairs * 2 < MIN_GROUP:
        return CoachingFigures(
            pairs=pairs,
            withheld_reason=f"Fewer than {MIN_GROUP} people in coaching: its cadence is withheld.",
        )
    return CoachingFigures(
        pairs=pairs,
        sessions=int(row.sessions or 0),
        minutes=int(row.minutes or 0),
        mean_days_between_sessions=None if row.mean_gap is None else float(row.mean_gap),
        pairs_met_last_30_days=int(row.recent),
    )


async def _figures(
    session: AsyncSession,
    trust_id: uuid.UUID,
    year: AcademicYear,
    school_ids: list[uuid.UUID],
    *,
    with_total: bool,
) -> dict[uuid.UUID | None, Figures]:
    people = await _people_and_hours(session, trust_id, year, school_ids, with_total=with_total)
    activities = await _activities(session, trust_id, year, school_ids, with_total=with_total)
    coaching = await _coaching(session, trust_id, year, school_ids, with_total=with_total)
    keys: list[uuid.UUID | None] = [*([TRUST] if with_total else []), *school_ids]
    out = {}
    for key in keys:
        people_figures, hours_figures = _people(people.get(key))
        activity_figures, spend = _activity_figures(activities.get(key, []), people_figures)
        out[key] = Figures(
            people=people_figures,
            hours=hours_figures,
            spend=spend,
            activities=activity_figures,
            coaching=_coaching_figures(coaching.get(key)),
        )
    return out


async def trust_dashboard(
    session: AsyncSession, *, principal: Principal, year: AcademicYear
) -> TrustDashboard:
    if not principal.is_trust_admin:
        raise TrustAdminsOnly(
            "Trust admins read the trust dashboard; leaders and governors read their schools' "
            "(/v1/dashboards/schools/{id})."
        )
    schools = (
        await session.execute(
            select(School.id, School.name)
            .where(School.trust_id == principal.trust_id)
            .order_by(School.name, School.id)
        )
    ).all()
    figures = await _figures(
        session, principal.trust_id, year, [s.id for s in schools], with_total=True
    )
    return TrustDashboard(
        trust_id=principal.trust_id,
        academic_year=year.name,
        min_group_size=MIN_GROUP,
        **figures[TRUST].model_dump(),
        schools=[
            SchoolDashboard(
                school_id=s.id, name=s.name, academic_year=year.name, **figures[s.id].model_dump()
            )
            for s in schools
        ],
    )


async def school_dashboard(
    session: AsyncSession, school_id: uuid.UUID, *, principal: Principal, year: AcademicYear
) -> SchoolDashboard:
    """Trust admins: any school of the trust; leaders and governors: their own schools. 404
    otherwise, as for a missing school."""
    school = await session.scalar(
        select(School).where(School.id == school_id, School.trust_id == principal.trust_id)
    )
    if school is None or not (principal.is_trust_admin or school_id in principal.school_ids):
        raise SchoolNotFound()
    figures = await _figures(session, principal.trust_id, year, [school.id], with_total=False)
    return SchoolDashboard(
        school_id=school.id,
        name=school.name,
        academic_year=year.name,
        **figures[school.id].model_dump(),
    )
