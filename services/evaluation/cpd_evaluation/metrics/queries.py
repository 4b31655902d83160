"""The QA metrics' exact figures, aggregated in SQL for the trust total and every school at
once (one statement per group of figures), each with its base: the number of people it is
built from. Disclosure control (:mod:`cpd_evaluation.metrics.disclosure`) comes after.

Staff, their hours and their pro-rated entitlement are the dashboards' own rows
(``dashboards.service.staff_cte``), activities count in a year as everywhere else
(``dashboards.service.attributed_in_year``), and a lesson study is completed when the dashboards say so
(``dashboards.service.completed_sql``): a QA body and the trust's own dashboard read the same
numbers, only rounded and suppressed differently.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Numeric,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_evaluation.dashboards import service as dashboards
from cpd_evaluation.entitlement import service as entitlement_service
from cpd_evaluation.impact import service as impact_service
from cpd_evaluation.impact.schemas import ImpactRead
from cpd_evaluation.metrics.definitions import definitions
from cpd_evaluation.metrics.disclosure import Cell
from cpd_evaluation.metrics.schemas import MetricDefinition
from cpd_evaluation.models import Activity, Participant
from cpd_evaluation.models.measures import (
    AuditRound,
    AuditRoundItem,
    CasePupilLesson,
    Measure,
    Observation,
    PlanLessonStudy,
)
from cpd_evaluation.models.plans import EvaluationPlan, EvaluationPlanActivity
from cpd_evaluation.records.years import AcademicYear
from cpd_evaluation.terms.plans import EVALUATION_LEVELS

Area = uuid.UUID | None  # a school, or None for the trust total

# The built-in instrument whose paired items are the eight principles (audit service).
PRINCIPLES_INSTRUMENT = "effective-cpd-principles"
BEYOND_REACTIONS = [level for level in EVALUATION_LEVELS if level != "reactions"]
OUTCOME_PHASES = ("short_term", "medium_term")


def _metric(metric_id: str) -> MetricDefinition:
    return next(m for m in definitions().metrics if m.id == metric_id)


def _ratio(part: Any, whole: Any) -> Decimal | None:
    return None if not whole else Decimal(part or 0) / Decimal(whole)


async def _staff(
    session: AsyncSession, trust_id: uuid.UUID, year: AcademicYear, school_ids: list[uuid.UUID]
) -> dict[Area, Any]:
    annual = await entitlement_service.annual_hours(session, trust_id)
    staff = dashboards.staff_cte(trust_id, year, annual)
    per_school = dashboards.unnest_schools(staff, "fte", "target", "hours", "subject", "sustained")

    def columns(src: Any) -> list[Any]:
        return [
            func.count().label("staff"),
            func.count().filter(src.c.hours > 0).label("covered"),
            func.count().filter(src.c.hours >= src.c.target).label("meeting"),
            func.sum(src.c.fte).label("fte"),
            func.sum(src.c.hours).label("hours"),
            func.sum(src.c.subject).label("subject"),
            func.sum(src.c.sustained).label("sustained"),
        ]

    total = select(literal(None, Uuid).label("school_id"), *columns(staff))
    schools = select(per_school.c.school_id, *columns(per_school)).group_by(per_school.c.school_id)
    rows = await session.execute(dashboards.with_trust_total(total, schools, school_ids))
    return {r.school_id: r for r in rows}


async def _activities(
    session: AsyncSession, trust_id: uuid.UUID, year: AcademicYear, school_ids: list[uuid.UUID]
) -> tuple[dict[Area, Any], dict[Area, Any]]:
    """Per area: the year's activities (how many, how many evaluated beyond reactions, with
    pupil-outcome evidence, lesson studies completed), and the people behind them (everyone
    taking part; the members of the completed lesson studies)."""
    in_plan = EvaluationPlanActivity.activity_id == Activity.id
    beyond = exists().where(
        in_plan,
        EvaluationPlan.id == EvaluationPlanActivity.plan_id,
        EvaluationPlan.levels.overlap(BEYOND_REACTIONS),
    )
    # Outcome data about pupils: a pupil measure observed after the baseline, or a linked
    # lesson study's case pupils in a completed research lesson.
    measured = (
        select(Measure.plan_id)
        .join(Observation, Observation.measure_id == Measure.id)
        .where(Measure.subjects == "pupils", Observation.phase.in_(OUTCOME_PHASES))
    )
    case_pupils = select(PlanLessonStudy.plan_id).join(
        CasePupilLesson, CasePupilLesson.study_id == PlanLessonStudy.study_id
    )
    pupil = exists().where(
        in_plan,
        or_(
            EvaluationPlanActivity.plan_id.in_(measured),
            EvaluationPlanActivity.plan_id.in_(case_pupils),
        ),
    )
    completed = and_(Activity.kind == "lesson_study", dashboards.completed_sql())
    acts = (
        select(
            Activity.id.label("activity_id"),
            Activity.school_ids.label("school_ids"),
            beyond.label("beyond"),
            pupil.label("pupil"),
            completed.label("completed"),
        )
        .where(
            Activity.trust_id == trust_id,
            Activity.status == "active",
            dashboards.attributed_in_year(year),
        )
        .cte("year_activities")
    )

    def activity_columns(src: Any) -> list[Any]:
        return [
            func.count().label("activities"),
            func.count().filter(src.c.beyond).label("beyond"),
            func.count().filter(src.c.pupil).label("pupil"),
            func.count().filter(src.c.completed).label("completed"),
        ]

    acts_by_school = dashboards.unnest_schools(acts, "beyond", "pupil", "completed")
    activity_rows = await session.execute(
        dashboards.with_trust_total(
            select(literal(None, Uuid).label("school_id"), *activity_columns(acts)),
            select(acts_by_school.c.school_id, *activity_columns(acts_by_school)).group_by(
                acts_by_school.c.school_id
            ),
            school_ids,
        )
    )
    # An erased participant is still one (anonymous) person: counted by participation.
    who = func.coalesce(Participant.person_id, Participant.id)
    people = (
        select(
            acts.c.school_ids.label("school_ids"),
            acts.c.completed.label("completed"),
            who.label("who"),
        )
        .join(Participant, Participant.activity_id == acts.c.activity_id)
        .cte("year_people")
    )

    def people_columns(src: Any) -> list[Any]:
        return [
            func.count(src.c.who.distinct()).label("people"),
            func.count(src.c.who.distinct()).filter(src.c.completed).label("members"),
        ]

    people_by_school = dashboards.unnest_schools(people, "completed", "who")
    people_rows = await session.execute(
        dashboards.with_trust_total(
            select(literal(None, Uuid).label("school_id"), *people_columns(people)),
            select(people_by_school.c.school_id, *people_columns(people_by_school)).group_by(
                people_by_school.c.school_id
            ),
            school_ids,
        )
    )
    return {r.school_id: r for r in activity_rows}, {r.school_id: r for r in people_rows}


async def _gaps(
    session: AsyncSession, trust_id: uuid.UUID, year: AcademicYear, school_ids: list[uuid.UUID]
) -> dict[tuple[Area, str], Any]:
    """Per area and principle: the gap weighted by respondents over the principles rounds
    closed in the year, and the largest round's respondents to the item (its base)."""
    items = (
        select(
            AuditRound.scope_kind.label("scope_kind"),
            AuditRound.school_ids.label("school_ids"),
            AuditRoundItem.item_key.label("item_key"),
            AuditRoundItem.n.label("n"),
            AuditRoundItem.gap.label("gap"),
        )
        .join(AuditRoundItem, AuditRoundItem.audit_id == AuditRound.audit_id)
        .where(
            AuditRound.trust_id == trust_id,
            AuditRound.instrument_key == PRINCIPLES_INSTRUMENT,
            AuditRound.closed_at >= datetime.combine(year.start, time(), UTC),
            AuditRound.closed_at < datetime.combine(year.end + timedelta(days=1), time(), UTC),
        )
        .subquery("principle_items")
    )
    key = items.c.item_key
    n = items.c.n
    gap = cast(items.c.gap, Numeric)
    answered = and_(gap.is_not(None), n > 0)

    def columns() -> list[Any]:
        return [
            key.label("principle"),
            (func.sum(gap * n) / func.sum(n)).label("gap"),
            func.max(n).label("base"),
        ]

    total = select(literal(None, Uuid).label("school_id"), *columns()).where(answered)
    # A school's own figure: only rounds scoped to that school alone.
    school = items.c.school_ids[1]
    per_school = (
        select(school.label("school_id"), *columns())
        .where(
            answered,
            items.c.scope_kind != "trust",
            func.cardinality(items.c.school_ids) == 1,
            school.in_(school_ids),
        )
        .group_by(school, key)
    )
    rows = await session.execute(total.group_by(key).union_all(per_school))
    return {(r.school_id, r.principle): r for r in rows}


PHASE_ORDER = {"short_term": 1, "medium_term": 2}


def _plan_effect(impact: ImpactRead) -> tuple[float, int] | None:
    """A programme's effect size: for each measure, Hedges' g from the baseline to the latest
    phase that has one (signed so that positive is better), then the median over its measures;
    with the most subjects any of them was computed from. None without an effect size (the
    impact analysis gives none below 10 subjects)."""
    effects: list[float] = []
    subjects = 0
    for measure in impact.measures:
        found = [
            c
            for c in measure.comparisons
            if c.from_phase == "baseline" and c.effect_size is not None
        ]
        if not found:
            continue
        latest = max(found, key=lambda c: PHASE_ORDER.get(c.to_phase, 0))
        assert latest.effect_size is not None
        sign = 1.0 if measure.higher_is_better else -1.0
        effects.append(sign * latest.effect_size.value)
        subjects = max(subjects, *(arm.n for arm in latest.arms))
    return (statistics.median(effects), subjects) if effects else None


async def _effect_sizes(
    session: AsyncSession, trust_id: uuid.UUID, year: AcademicYear, school_ids: list[uuid.UUID]
) -> dict[Area, tuple[float, int]]:
    """Per area: the median effect size over the evaluated programmes (plans covering an
    activity of the year in that area) with one, and the most subjects behind any of them.
    Each plan's impact comes from the impact analysis itself (``impact.service``), so the
    figure follows its honesty rules."""
    rows = await session.execute(
        select(EvaluationPlan, Activity.school_ids)
        .join(EvaluationPlanActivity, EvaluationPlanActivity.plan_id == EvaluationPlan.id)
        .join(Activity, Activity.id == EvaluationPlanActivity.activity_id)
        .where(
            EvaluationPlan.trust_id == trust_id,
            Activity.status == "active",
            dashboards.attributed_in_year(year),
        )
        .order_by(EvaluationPlan.id)
    )
    plans: dict[uuid.UUID, EvaluationPlan] = {}
    plan_schools: dict[uuid.UUID, set[uuid.UUID]] = {}
    for plan, schools in rows:
        plans[plan.id] = plan
        plan_schools.setdefault(plan.id, set()).update(schools)
    per_area: dict[Area, list[tuple[float, int]]] = {}
    for plan_id, plan in plans.items():
        effect = _plan_effect(await impact_service.plan_impact(session, plan))
        if effect is None:
            continue
        for area in (None, *(s for s in school_ids if s in plan_schools[plan_id])):
            per_area.setdefault(area, []).append(effect)
    return {
        area: (statistics.median(e for e, _ in effects), max(n for _, n in effects))
        for area, effects in per_area.items()
    }


def _principles() -> list[str]:
    return [str(i) for i in range(1, 9)]


async def cells(
    session: AsyncSession, trust_id: uuid.UUID, year: AcademicYear, school_ids: list[uuid.UUID]
) -> list[Cell]:
    """Every figure of the trust and of each school, exact, with its base."""
    staff = await _staff(session, trust_id, year, school_ids)
    activities, people = await _activities(session, trust_id, year, school_ids)
    gaps = await _gaps(session, trust_id, year, school_ids)
    effects = await _effect_sizes(session, trust_id, year, school_ids)
    areas: list[Area] = [None, *school_ids]
    out: list[Cell] = []
    for area in areas:
        s, a, p = staff.get(area), activities.get(area), people.get(area)
        n_staff = int(s.staff) if s else 0
        covered = int(s.covered) if s else 0
        n_people = int(p.people) if p else 0
        members = int(p.members) if p else 0
        hours = s.hours if s else None
        out += [
            Cell(area, _metric("staff"), n_staff, n_staff),
            Cell(area, _metric("staff_covered"), covered, covered),
            Cell(area, _metric("hours_per_fte"), _ratio(hours, s.fte if s else 0), n_staff),
            Cell(
                area,
                _metric("meeting_entitlement_share"),
                _ratio(s.meeting if s else 0, n_staff),
                n_staff,
            ),
            Cell(area, _metric("sustained_share"), _ratio(s.sustained if s else 0, hours), covered),
            Cell(
                area,
                _metric("subject_specific_share"),
                _ratio(s.subject if s else 0, hours),
                covered,
            ),
            Cell(
                area,
                _metric("evaluated_beyond_reactions_share"),
                _ratio(a.beyond, a.activities) if a else None,
                n_people,
            ),
            Cell(
                area,
                _metric("pupil_outcome_evidence_share"),
                _ratio(a.pupil, a.activities) if a else None,
                n_people,
            ),
            Cell(
                area,
                _metric("lesson_studies_completed"),
                int(a.completed) if a else 0,
                members,
            ),
        ]
        for principle in _principles():
            g = gaps.get((area, principle))
            out.append(
                Cell(
                    area,
                    _metric("values_practice_gap"),
                    None if g is None else g.gap,
                    None if g is None else int(g.base),
                    principle=principle,
                    note=None
                    if g is not None
                    else "No round of the effective CPD principles audit closed in the period "
                    + ("in the trust." if area is None else "scoped to this school alone."),
                )
            )
        effect = effects.get(area)
        out.append(
            Cell(
                area,
                _metric("median_effect_size"),
                None if effect is None else effect[0],
                None if effect is None else effect[1],
                note=None
                if effect is not None
                else "No evaluated programme of the period has an effect size (the impact "
                "analysis gives one from 10 subjects measured at baseline and after).",
            )
        )
    return out
