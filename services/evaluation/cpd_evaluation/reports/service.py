"""What a governor-ready evaluation report is made of, gathered in a few queries: the plan,
its schools, what was done (activities with participants and hours), the evidence by level,
the impact analysis and value for money, each from the module that owns it, so the report
says exactly what the API says."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.evaluations import service as plans_service
from cpd_evaluation.evaluations.schemas import PlanRead
from cpd_evaluation.evidence import service as evidence_service
from cpd_evaluation.evidence import value as value_service
from cpd_evaluation.evidence.schemas import Evidence, ValueForMoney
from cpd_evaluation.impact import service as impact_service
from cpd_evaluation.impact.schemas import ImpactRead
from cpd_evaluation.models import Activity, Participant, School
from cpd_evaluation.models.plans import EvaluationPlan
from cpd_evaluation.participants.hours import hours_subquery
from cpd_evaluation.terms import KIND_LABELS


@dataclass(frozen=True)
class ActivityLine:
    title: str
    kind: str
    starts_on: date | None
    ends_on: date | None
    cancelled: bool
    participants: int
    hours: Decimal


@dataclass(frozen=True)
class ReportRecord:
    plan: PlanRead
    school_names: list[str]
    activities: list[ActivityLine]
    evidence: Evidence
    impact: ImpactRead
    value: ValueForMoney


async def _activity_lines(session: AsyncSession, activities: list[Activity]) -> list[ActivityLine]:
    ids = [a.id for a in activities]
    totals: dict[uuid.UUID, tuple[int, Decimal]] = {}
    if ids:
        hours_q = hours_subquery(
            Participant.activity_id.in_(ids), Participant.role != "facilitator"
        )
        for activity_id, n, hours in await session.execute(
            select(
                hours_q.c.activity_id, func.count(), func.coalesce(func.sum(hours_q.c.hours), 0)
            ).group_by(hours_q.c.activity_id)
        ):
            totals[activity_id] = (int(n), Decimal(hours))
    return [
        ActivityLine(
            title=a.title,
            kind=KIND_LABELS.get(a.kind, a.kind),
            starts_on=a.starts_on,
            ends_on=a.ends_on,
            cancelled=a.status == "cancelled",
            participants=totals.get(a.id, (0, Decimal(0)))[0],
            hours=totals.get(a.id, (0, Decimal(0)))[1],
        )
        for a in activities
    ]


async def report_record(session: AsyncSession, plan: EvaluationPlan) -> ReportRecord:
    """The caller has checked the plan is visible to the reader."""
    activities = await evidence_service.plan_activities(session, plan)
    school_ids = set(plan.school_ids).union(*(a.school_ids for a in activities))
    schools = list(
        await session.scalars(
            select(School.name)
            .where(School.id.in_(school_ids), School.trust_id == plan.trust_id)
            .order_by(School.name)
        )
    )
    return ReportRecord(
        plan=await plans_service.plan_read(session, plan),
        school_names=schools,
        activities=await _activity_lines(session, activities),
        evidence=await evidence_service.evidence(session, plan),
        impact=await impact_service.plan_impact(session, plan),
        value=await value_service.value_for_money(session, plan),
    )
