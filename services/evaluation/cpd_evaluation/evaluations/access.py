"""Who may see and change an evaluation plan.

A plan belongs to the schools of the activities it covers, and to the schools recorded on it
when its activity list was set (so a plan whose activity was deleted stays with its schools).
Trust admins see and change every plan of their trust; school leaders see and change the plans
of the schools they lead; governors read the plans of their schools. Changing which activities
a plan covers, or deleting it, needs the right to manage every activity it adds or removes
(:func:`manages_all`). Anyone else in the trust, and everyone in
another trust, gets 404 exactly as for a missing plan. Staff and API clients get 403 before
any lookup.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, cast, exists, false, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal, Role
from cpd_common.db import scalar_or_raise
from cpd_evaluation.activities.access import leads
from cpd_evaluation.evaluations.errors import CannotChangePlan, PlanNotFound
from cpd_evaluation.models import Activity
from cpd_evaluation.models.plans import EvaluationPlan, EvaluationPlanActivity

PLAN_READERS: tuple[Role, ...] = ("school_leader", "trust_admin", "governor")
# Support records, evidence and value for money in JSON: those who run the evaluation.
# Governors read them in the report.
EVIDENCE_READERS: tuple[Role, ...] = ("school_leader", "trust_admin")


def _covers_schools(school_ids: frozenset[uuid.UUID] | set[uuid.UUID]) -> ColumnElement[bool]:
    """SQL: the plan is recorded for, or covers an activity of, one of these schools."""
    if not school_ids:
        return false()
    wanted = cast(sorted(school_ids), ARRAY(Uuid))
    return or_(
        EvaluationPlan.school_ids.overlap(wanted),
        exists().where(
            EvaluationPlanActivity.plan_id == EvaluationPlan.id,
            Activity.id == EvaluationPlanActivity.activity_id,
            Activity.school_ids.overlap(wanted),
        ),
    )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """SQL filter: the plans of the caller's trust the caller may read."""
    if principal.is_trust_admin:
        return true()
    if principal.has_any("school_leader", "governor"):
        return _covers_schools(set(principal.school_ids))
    return false()


def can_write(principal: Principal) -> bool:
    """Trust admins and school leaders write plans (of the schools they lead); governors read."""
    return principal.is_trust_admin or principal.has_any("school_leader")


async def get_plan(
    session: AsyncSession,
    plan_id: uuid.UUID,
    *,
    principal: Principal,
    write: bool = False,
) -> EvaluationPlan:
    """The plan (locked for the transaction when ``write``). 404 when it is missing, in another
    trust or not visible; 403 when the caller may read but not change it."""
    stmt = select(EvaluationPlan).where(
        EvaluationPlan.id == plan_id,
        EvaluationPlan.trust_id == principal.trust_id,
        visible_to(principal),
    )
    if write:
        stmt = stmt.with_for_update(of=EvaluationPlan)
    plan = await scalar_or_raise(session, stmt, PlanNotFound)
    if write and not can_write(principal):
        raise CannotChangePlan("Governors read evaluation plans; leaders and trust admins write.")
    return plan


def not_managed_by(principal: Principal, activities: list[Activity]) -> list[Activity]:
    """The activities among these the caller may not manage for a plan: a trust admin manages
    all of them, a leader those of a school they lead. A plan spanning several schools thus
    cannot lose or gain another school's activity through one school's leader."""
    if principal.is_trust_admin:
        return []
    return [a for a in activities if not leads(principal, a.school_ids)]
