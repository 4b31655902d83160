"""Evaluation plans: creating, listing, changing and deleting them, the activities each covers
(an activity belongs to at most one plan), the forward-only status, and the read model with
its warnings."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, tombstones
from cpd_common.auth import Principal
from cpd_common.db import utcnow, where_given
from cpd_common.errors import is_unique_violation
from cpd_common.events import catalogue
from cpd_common.schemas import from_row
from cpd_evaluation.activities.errors import ActivityCancelled
from cpd_evaluation.evaluations.access import can_write, not_managed_by, visible_to
from cpd_evaluation.evaluations.errors import (
    ActivityAlreadyPlanned,
    CannotChangePlan,
    InvalidPlan,
    StatusGoesBack,
)
from cpd_evaluation.evaluations.schemas import (
    DataSet,
    DataSetRead,
    DesignCheckRead,
    DueDates,
    DueDatesRead,
    PlanCreate,
    PlanRead,
    PlanUpdate,
    PlanWarning,
)
from cpd_evaluation.membership import is_person_of_trust
from cpd_evaluation.models import Activity
from cpd_evaluation.models.plans import EvaluationPlan, EvaluationPlanActivity
from cpd_evaluation.terms.plans import PLAN_STATUSES

EMPTY_SET: dict[str, Any] = {"quantitative": [], "qualitative": [], "analysis": None}


async def _check_activities(
    session: AsyncSession, activity_ids: list[uuid.UUID], *, principal: Principal
) -> None:
    """Every activity added is one of the trust's; unless a trust admin, the caller leads a
    school of each (a leader cannot put another school's activity under their plan). A
    cancelled activity is kept only as a record: no plan takes it on (409)."""
    rows = {
        a.id: a
        for a in await session.scalars(
            select(Activity).where(
                Activity.id.in_(activity_ids), Activity.trust_id == principal.trust_id
            )
        )
    }
    errors = []
    cancelled = []
    for i, activity_id in enumerate(activity_ids):
        activity = rows.get(activity_id)
        if activity is None:
            errors.append({"loc": f"body.activity_ids.{i}", "msg": "unknown activity"})
        elif not_managed_by(principal, [activity]):
            errors.append(
                {"loc": f"body.activity_ids.{i}", "msg": "not an activity of a school you lead"}
            )
        elif activity.status == "cancelled":
            cancelled.append({"loc": f"body.activity_ids.{i}", "msg": "cancelled activity"})
    if errors:
        raise InvalidPlan(
            "Every activity must be an activity of your trust, of a school you lead.",
            errors=errors,
        )
    if cancelled:
        raise ActivityCancelled(
            "A cancelled activity is kept as a record; it cannot be put under an evaluation plan.",
            errors=cancelled,
        )


async def _check_removable(
    session: AsyncSession, activity_ids: Collection[uuid.UUID], *, principal: Principal
) -> None:
    """The caller may manage every activity leaving the plan (403 otherwise)."""
    if not activity_ids:
        return
    activities = list(
        await session.scalars(
            select(Activity).where(Activity.id.in_(activity_ids)).order_by(Activity.id)
        )
    )
    refused = not_managed_by(principal, activities)
    if refused:
        raise CannotChangePlan(
            "The plan covers activities of schools you do not lead; only their leaders or a "
            "trust admin may take them out of it.",
            errors=[
                {
                    "loc": "body.activity_ids",
                    "msg": f"activity {a.id} is of a school you do not lead",
                }
                for a in refused
            ],
        )


async def _check_responsible(
    session: AsyncSession, person_id: uuid.UUID | None, *, principal: Principal
) -> None:
    if person_id is not None and not await is_person_of_trust(
        session, person_id, trust_id=principal.trust_id
    ):
        raise InvalidPlan(
            "The person responsible must be an active member of staff of your trust.",
            errors=[{"loc": "body.responsible_id", "msg": "unknown person"}],
        )


async def _refuse_planned_elsewhere(
    session: AsyncSession, activity_ids: list[uuid.UUID], *, plan_id: uuid.UUID | None
) -> None:
    stmt = select(EvaluationPlanActivity.activity_id, EvaluationPlanActivity.plan_id).where(
        EvaluationPlanActivity.activity_id.in_(activity_ids)
    )
    if plan_id is not None:
        stmt = stmt.where(EvaluationPlanActivity.plan_id != plan_id)
    taken = (await session.execute(stmt)).all()
    if taken:
        raise ActivityAlreadyPlanned(
            "An activity belongs to at most one evaluation plan; change that plan instead.",
            errors=[
                {"loc": "body.activity_ids", "msg": f"activity {a} is in plan {p}"}
                for a, p in taken
            ],
        )


async def _set_activities(
    session: AsyncSession, plan: EvaluationPlan, activity_ids: list[uuid.UUID]
) -> None:
    """Replaces the plan's activities and records their schools on it. The unique constraint on
    ``activity_id`` decides between concurrent plans claiming one activity: the loser gets the
    same 409 as a sequential one."""
    await _refuse_planned_elsewhere(session, activity_ids, plan_id=plan.id)
    schools = await _schools_of(session, activity_ids)
    if sorted(plan.school_ids) != schools:
        plan.school_ids = schools
    try:
        async with session.begin_nested():
            await session.execute(
                delete(EvaluationPlanActivity).where(EvaluationPlanActivity.plan_id == plan.id)
            )
            session.add_all(
                EvaluationPlanActivity(plan_id=plan.id, activity_id=a, trust_id=plan.trust_id)
                for a in activity_ids
            )
            await session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise ActivityAlreadyPlanned(
            "An activity belongs to at most one evaluation plan; another plan took it just now.",
            errors=[{"loc": "body.activity_ids", "msg": "already in another plan"}],
        ) from None


async def _schools_of(session: AsyncSession, activity_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(func.unnest(Activity.school_ids).label("school_id"))
            .where(Activity.id.in_(activity_ids))
            .distinct()
            .order_by("school_id")
        )
    )


async def _activity_ids(session: AsyncSession, plan: EvaluationPlan) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(EvaluationPlanActivity.activity_id).where(
                EvaluationPlanActivity.plan_id == plan.id
            )
        )
    )


def _data(value: DataSet) -> dict[str, Any]:
    return value.model_dump(mode="json")


def _set_due(plan: EvaluationPlan, due: DueDates) -> None:
    plan.baseline_due_on = due.baseline
    plan.short_term_due_on = due.short_term
    plan.medium_term_due_on = due.medium_term
    plan.report_due_on = due.report


async def create_plan(
    session: AsyncSession, *, principal: Principal, data: PlanCreate
) -> EvaluationPlan:
    if not can_write(principal):
        raise CannotChangePlan("Evaluation plans are written by leaders and trust admins.")
    await _check_activities(session, data.activity_ids, principal=principal)
    await _check_responsible(session, data.responsible_id, principal=principal)
    plan = EvaluationPlan(
        trust_id=principal.trust_id,
        title=data.title,
        status="planned",
        reaches_pupil_outcomes=data.design_check.reaches_pupil_outcomes,
        design_note=data.design_check.note,
        short_term_outcome=data.short_term_outcome,
        medium_term_outcome=data.medium_term_outcome,
        baseline_data=_data(data.baseline),
        short_term_data=_data(data.short_term_data),
        medium_term_data=_data(data.medium_term_data),
        reported_to=data.reported_to,
        leads_to_action=data.leads_to_action,
        levels=list(data.levels),
        created_by=principal.person_id,
        responsible_id=data.responsible_id or principal.person_id,
        pupils_reached=data.pupils_reached,
        school_ids=await _schools_of(session, data.activity_ids),
    )
    _set_due(plan, data.due)
    session.add(plan)
    await session.flush()
    await _set_activities(session, plan, data.activity_ids)
    return plan


def list_query(
    *,
    principal: Principal,
    activity_id: uuid.UUID | None = None,
    status: str | None = None,
) -> Select[Any]:
    stmt = select(EvaluationPlan).where(
        EvaluationPlan.trust_id == principal.trust_id, visible_to(principal)
    )
    if activity_id is not None:
        stmt = stmt.where(
            exists().where(
                EvaluationPlanActivity.plan_id == EvaluationPlan.id,
                EvaluationPlanActivity.activity_id == activity_id,
            )
        )
    stmt = where_given(stmt, (EvaluationPlan.status, status))
    return stmt


def _move_status(plan: EvaluationPlan, status: str) -> None:
    """Forward only: a plan may skip a point it did not collect, never go back to one."""
    if PLAN_STATUSES.index(status) < PLAN_STATUSES.index(plan.status):
        raise StatusGoesBack(
            f"The plan is {plan.status}; it cannot go back to {status}.",
            errors=[{"loc": "body.status", "msg": f"{plan.status} is after {status}"}],
        )
    plan.status = status


async def update_plan(
    session: AsyncSession, plan: EvaluationPlan, *, principal: Principal, data: PlanUpdate
) -> EvaluationPlan:
    """``plan`` was fetched for writing (locked) by the caller."""
    changes = data.model_fields_set
    was = plan.status
    if data.status is not None:
        _move_status(plan, data.status)
    if data.activity_ids is not None:
        current = set(await _activity_ids(session, plan))
        added = [a for a in data.activity_ids if a not in current]
        if added:
            await _check_activities(session, added, principal=principal)
        await _check_removable(session, current.difference(data.activity_ids), principal=principal)
        await _set_activities(session, plan, data.activity_ids)
    if "responsible_id" in changes:
        await _check_responsible(session, data.responsible_id, principal=principal)
        plan.responsible_id = data.responsible_id
    if data.design_check is not None:
        plan.reaches_pupil_outcomes = data.design_check.reaches_pupil_outcomes
        plan.design_note = data.design_check.note
    for name, column in (
        ("baseline", "baseline_data"),
        ("short_term_data", "short_term_data"),
        ("medium_term_data", "medium_term_data"),
    ):
        value = getattr(data, name)
        if value is not None:
            setattr(plan, column, _data(value))
    if data.due is not None:
        _set_due(plan, data.due)
    for name in (
        "title",
        "short_term_outcome",
        "medium_term_outcome",
        "reported_to",
        "leads_to_action",
        "pupils_reached",
    ):
        if name in changes:
            setattr(plan, name, getattr(data, name))
    if data.levels is not None:
        plan.levels = list(data.levels)
    _check_due_order(plan)
    plan.updated_at = utcnow()
    await session.flush()
    if plan.status == "reported" and was != "reported":
        # Once per plan: the status never leaves ``reported``.
        events.add(
            session,
            catalogue.EvaluationReported(
                trust_id=plan.trust_id,
                evaluation_id=plan.id,
                title=plan.title,
                school_ids=sorted(plan.school_ids),
                activity_ids=sorted(await _activity_ids(session, plan)),
                levels=list(plan.levels),
                reported_at=plan.updated_at,
            ),
        )
    return plan


def _check_due_order(plan: EvaluationPlan) -> None:
    dated = [
        d
        for d in (
            plan.baseline_due_on,
            plan.short_term_due_on,
            plan.medium_term_due_on,
            plan.report_due_on,
        )
        if d is not None
    ]
    if dated != sorted(dated):
        raise InvalidPlan(
            "Due dates run baseline, short term, medium term, report.",
            errors=[{"loc": "body.due", "msg": "out of order"}],
        )


async def delete_plan(session: AsyncSession, plan: EvaluationPlan, *, principal: Principal) -> None:
    """Deletes the plan; its activities are free for another plan. Only someone who may take
    every one of its activities out of it may delete it."""
    activity_ids = await _activity_ids(session, plan)
    await _check_removable(session, activity_ids, principal=principal)
    # Listed to trust admins and the leaders and governors of the schools it covers (its own
    # and its activities': access.visible_to).
    schools = set(plan.school_ids or [])
    for school_ids in await session.scalars(
        select(Activity.school_ids).where(Activity.id.in_(list(activity_ids)))
    ):
        schools.update(school_ids or [])
    await tombstones.delete(
        session,
        plan,
        visible_to=tombstones.audience(
            roles=("trust_admin",), school_roles=("school_leader", "governor"), schools=schools
        ),
    )


# ---- read model ---------------------------------------------------------------------------


def _items(data: dict[str, Any]) -> set[str]:
    return {
        item.casefold() for item in [*data.get("quantitative", []), *data.get("qualitative", [])]
    }


def warnings_for(plan: EvaluationPlan) -> list[PlanWarning]:
    """What a sound evaluation would have. Mirroring is judged simply: an outcome set mirrors
    the baseline when it names at least one of the baseline's items."""
    out: list[PlanWarning] = []
    baseline = _items(plan.baseline_data)
    if not baseline:
        out.append(
            PlanWarning(
                code="no_baseline",
                message="No baseline data is held, so change cannot be measured against it.",
            )
        )
    elif baseline.isdisjoint(_items(plan.short_term_data) | _items(plan.medium_term_data)):
        out.append(
            PlanWarning(
                code="outcomes_do_not_mirror_baseline",
                message="None of the data to gather later matches an item of the baseline, "
                "so outcomes cannot be compared with it.",
            )
        )
    if set(plan.levels) == {"reactions"}:
        out.append(
            PlanWarning(
                code="only_reactions",
                message="Only participants' reactions are evaluated: nothing shows whether "
                "they learned, changed practice or made a difference to pupils.",
            )
        )
    return out


def _data_read(data: dict[str, Any]) -> DataSetRead:
    return DataSetRead.model_validate({**EMPTY_SET, **data})


async def plan_reads(session: AsyncSession, plans: Sequence[EvaluationPlan]) -> list[PlanRead]:
    ids = [p.id for p in plans]
    activities: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if ids:
        for plan_id, activity_id in await session.execute(
            select(EvaluationPlanActivity.plan_id, EvaluationPlanActivity.activity_id)
            .where(EvaluationPlanActivity.plan_id.in_(ids))
            .order_by(EvaluationPlanActivity.activity_id)
        ):
            activities[plan_id].append(activity_id)
    return [
        from_row(
            PlanRead,
            p,
            activity_ids=activities[p.id],
            design_check=DesignCheckRead(
                reaches_pupil_outcomes=p.reaches_pupil_outcomes, note=p.design_note
            ),
            baseline=_data_read(p.baseline_data),
            short_term_data=_data_read(p.short_term_data),
            medium_term_data=_data_read(p.medium_term_data),
            levels=list(p.levels),
            due=DueDatesRead(
                baseline=p.baseline_due_on,
                short_term=p.short_term_due_on,
                medium_term=p.medium_term_due_on,
                report=p.report_due_on,
            ),
            warnings=warnings_for(p),
            school_ids=sorted(p.school_ids),
        )
        for p in plans
    ]


async def plan_read(session: AsyncSession, plan: EvaluationPlan) -> PlanRead:
    return (await plan_reads(session, [plan]))[0]
