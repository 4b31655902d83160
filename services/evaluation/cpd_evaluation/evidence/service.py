"""Evidence by evaluation level for a plan: aggregates over the activities it covers, each
released under the rules of the part it comes from.

1. Reactions: each activity's feedback summary exactly as :mod:`cpd_evaluation.feedback`
   releases it (counts while the window is open or too few responded); the combined means
   only over released activities.
2. Learning: counts of reflections (shared as evidence, and private ones never read).
3. Organisational support: what leaders recorded (:mod:`cpd_evaluation.support`).
4. Use of knowledge and skills: gap tasks, delegates' impact reports, coaching milestones
   (counts, never the log) and observation measures.
5. Pupil outcomes: the plan's measures with how many values each phase holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.evidence.schemas import (
    ActivityReactions,
    Coaching,
    Evidence,
    Learning,
    MeasureCounts,
    PupilOutcomes,
    Reactions,
    Support,
    UseOfLearning,
)
from cpd_evaluation.feedback import service as feedback_service
from cpd_evaluation.measures import service as measures_service
from cpd_evaluation.models import Activity, Participant
from cpd_evaluation.models.evidence import SupportRecord
from cpd_evaluation.models.measures import Measure
from cpd_evaluation.models.plans import EvaluationPlan, EvaluationPlanActivity
from cpd_evaluation.models.voice import (
    CoachingAgreement,
    CoachingSession,
    Feedback,
    Reflection,
)

DELEGATE = Participant.role != "facilitator"
STAFF_LEARNING_KINDS = ("staff_confidence", "staff_survey_item")


async def plan_measures(session: AsyncSession, plan: EvaluationPlan) -> list[MeasureCounts]:
    measures = list(
        await session.scalars(measures_service.list_query(plan).order_by(Measure.name, Measure.id))
    )
    return [
        MeasureCounts(
            measure_id=m.id,
            name=m.name,
            kind=m.kind,
            subjects=m.subjects,
            higher_is_better=m.higher_is_better,
            baseline=m.observations.baseline,
            short_term=m.observations.short_term,
            medium_term=m.observations.medium_term,
        )
        for m in await measures_service.measure_reads(session, measures)
    ]


async def plan_activities(session: AsyncSession, plan: EvaluationPlan) -> list[Activity]:
    """The plan's activities, in the order they ran."""
    return list(
        await session.scalars(
            select(Activity)
            .join(EvaluationPlanActivity, EvaluationPlanActivity.activity_id == Activity.id)
            .where(EvaluationPlanActivity.plan_id == plan.id)
            .order_by(Activity.starts_on.nulls_last(), Activity.id)
        )
    )


async def reactions(session: AsyncSession, activities: Sequence[Activity]) -> Reactions:
    rows: list[ActivityReactions] = []
    released: list[uuid.UUID] = []
    for activity in activities:
        summary = await feedback_service.summary(session, activity)
        rows.append(
            ActivityReactions(
                activity_id=activity.id,
                title=activity.title,
                status=summary.status,
                responses=summary.responses,
                participants=summary.participants,
                released=summary.released,
                withheld_reason=summary.withheld_reason,
                relevance=summary.relevance.mean if summary.relevance else None,
                quality=summary.quality.mean if summary.quality else None,
                expected_impact=summary.expected_impact.mean if summary.expected_impact else None,
            )
        )
        if summary.released:
            released.append(activity.id)
    combined = Reactions(activities=rows, released_activities=len(released), responses=0)
    if released:
        row = (
            await session.execute(
                feedback_service.rating_columns(Feedback.activity_id.in_(released))
            )
        ).one()
        ratings = feedback_service.ratings_from(row)
        combined.responses = int(row.n)
        combined.relevance = ratings["relevance"].mean
        combined.quality = ratings["quality"].mean
        combined.expected_impact = ratings["expected_impact"].mean
    return combined


async def learning(
    session: AsyncSession, activity_ids: list[uuid.UUID], measures: list[MeasureCounts]
) -> Learning:
    shared, noting, private = (
        await session.execute(
            select(
                func.count().filter(Reflection.shared_as_evidence.is_(True)),
                func.count().filter(
                    Reflection.shared_as_evidence.is_(True), Reflection.pupil_effect.is_not(None)
                ),
                func.count().filter(Reflection.shared_as_evidence.is_(False)),
            ).where(Reflection.activity_id.in_(activity_ids))
        )
    ).one()
    return Learning(
        shared_as_evidence=int(shared),
        shared_noting_pupil_effect=int(noting),
        private=int(private),
        staff_measures=[m for m in measures if m.kind in STAFF_LEARNING_KINDS],
    )


async def support(session: AsyncSession, plan: EvaluationPlan) -> Support:
    records = list(
        await session.scalars(
            select(SupportRecord)
            .where(SupportRecord.plan_id == plan.id)
            .order_by(SupportRecord.recorded_on, SupportRecord.id)
        )
    )
    return Support(
        records=len(records),
        hours_given=float(sum((r.hours_given or Decimal(0) for r in records), Decimal(0))),
        resources=[r.resources for r in records if r.resources],
        barriers=[r.barriers for r in records if r.barriers],
    )


async def use_of_learning(
    session: AsyncSession, activity_ids: list[uuid.UUID], measures: list[MeasureCounts]
) -> UseOfLearning:
    delegates, gap_set, gap_done, reports = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Activity.gap_task.is_not(None)),
                func.count().filter(
                    Activity.gap_task.is_not(None), Participant.gap_task_done_on.is_not(None)
                ),
                func.count().filter(Participant.impact_report.is_not(None)),
            )
            .join(Activity, Activity.id == Participant.activity_id)
            .where(Participant.activity_id.in_(activity_ids), DELEGATE)
        )
    ).one()
    pairs = await session.scalar(
        select(func.count()).where(CoachingAgreement.activity_id.in_(activity_ids))
    )
    sessions, minutes, evidence, impact = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(CoachingSession.minutes), 0),
                func.count().filter(func.cardinality(CoachingSession.evidence) > 0),
                func.count().filter(CoachingSession.impact_noted.is_not(None)),
            ).where(CoachingSession.activity_id.in_(activity_ids))
        )
    ).one()
    return UseOfLearning(
        delegates=int(delegates),
        gap_tasks_set=int(gap_set),
        gap_tasks_done=int(gap_done),
        impact_reports=int(reports),
        coaching=Coaching(
            pairs=int(pairs or 0),
            sessions=int(sessions),
            hours=round(int(minutes) / 60, 2),
            sessions_reviewing_evidence=int(evidence),
            sessions_noting_impact=int(impact),
        ),
        observation_measures=[m for m in measures if m.kind == "observation_rating"],
    )


async def evidence(session: AsyncSession, plan: EvaluationPlan) -> Evidence:
    activities = await plan_activities(session, plan)
    ids = [a.id for a in activities]
    measures = await plan_measures(session, plan)
    return Evidence(
        evaluation_id=plan.id,
        levels_planned=list(plan.levels),
        reactions=await reactions(session, activities),
        learning=await learning(session, ids, measures),
        organisational_support=await support(session, plan),
        use_of_knowledge_and_skills=await use_of_learning(session, ids, measures),
        pupil_outcomes=PupilOutcomes(
            measures=[
                m for m in measures if m.subjects == "pupils" and m.kind != "observation_rating"
            ]
        ),
    )
