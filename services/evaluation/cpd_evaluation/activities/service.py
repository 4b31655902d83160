"""Activities: recording, changing, cancelling and deleting CPD activities and the needs
they answer. Their sessions are in :mod:`cpd_evaluation.activities.sessions`, the read model
and the event in :mod:`cpd_evaluation.activities.reads`."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import directory, tombstones
from cpd_common.auth import Principal
from cpd_common.db import known_ids, utcnow
from cpd_evaluation.activities import reads
from cpd_evaluation.activities import sessions as activity_sessions
from cpd_evaluation.activities.access import ACTIVITY_ROLES, ensure_active, leads
from cpd_evaluation.activities.errors import CannotCreateActivity, InvalidActivity, ManagedElsewhere
from cpd_evaluation.activities.schemas import ActivityCreate, ActivityUpdate, CostsIn
from cpd_evaluation.models import Activity, ActivityNeed, Need, Participant, School, Tombstone
from cpd_evaluation.models.offer import ProgrammeRun
from cpd_evaluation.participants import service as participants_service
from cpd_evaluation.providers import service as providers_service

# Fields a lesson study's events own: they cannot be changed here.
FROM_SOURCE = frozenset({"title", "kind", "school_ids", "subject_specific", "subject", "sessions"})


async def check_schools(
    session: AsyncSession, school_ids: list[uuid.UUID], *, principal: Principal
) -> None:
    await directory.check_schools(
        session,
        School,
        school_ids,
        principal=principal,
        invalid=InvalidActivity,
        what="An activity",
    )


async def _check_needs(
    session: AsyncSession, need_ids: list[uuid.UUID], *, trust_id: uuid.UUID
) -> None:
    if not need_ids:
        return
    known = await known_ids(session, Need.id, need_ids, Need.trust_id == trust_id)
    unknown = [n for n in need_ids if n not in known]
    if unknown:
        raise InvalidActivity(
            "Every need must be a need recorded in your trust's needs register.",
            errors=[{"loc": "body.need_ids", "msg": f"unknown need {n}"} for n in unknown],
        )


async def _set_needs(session: AsyncSession, activity: Activity, need_ids: list[uuid.UUID]) -> None:
    await _check_needs(session, need_ids, trust_id=activity.trust_id)
    await session.execute(delete(ActivityNeed).where(ActivityNeed.activity_id == activity.id))
    session.add_all(
        ActivityNeed(activity_id=activity.id, need_id=n, trust_id=activity.trust_id)
        for n in need_ids
    )


COST_COLUMNS = {"fees": "fees", "materials": "materials_cost", "supply_cover": "supply_cover_cost"}


def _set_costs(activity: Activity, costs: CostsIn, *, only_given: bool = False) -> None:
    """On PATCH (``only_given``) a cost left out keeps its value."""
    for name, column in COST_COLUMNS.items():
        if not only_given or name in costs.model_fields_set:
            setattr(activity, column, getattr(costs, name))


async def create_activity(
    session: AsyncSession, *, principal: Principal, data: ActivityCreate
) -> Activity:
    """Records an activity. A member of staff who is not a leader records their own CPD and
    joins it as its participant."""
    if principal.person_id is None or not principal.has_any(*ACTIVITY_ROLES):
        raise CannotCreateActivity("Activities are recorded by staff, leaders and trust admins.")
    await check_schools(session, data.school_ids, principal=principal)
    await providers_service.check_provider(session, data.provider_id, trust_id=principal.trust_id)
    activity = Activity(
        trust_id=principal.trust_id,
        title=data.title,
        kind=data.kind,
        status="active",
        provider_id=data.provider_id,
        school_ids=data.school_ids,
        subject_specific=data.subject_specific,
        subject=data.subject,
        focus=data.focus,
        intent=data.intent,
        gap_task=data.gap_task,
        gap_task_due_on=data.gap_task_due_on,
        release_time_hours=data.release_time_hours,
        source="manual",
        created_by=principal.person_id,
    )
    _set_costs(activity, data.costs)
    session.add(activity)
    await session.flush()
    await _set_needs(session, activity, data.need_ids)
    await activity_sessions.replace_sessions(session, activity, data.sessions)
    if not (principal.is_trust_admin or leads(principal, activity.school_ids)):
        await participants_service.add_participant_row(
            session, activity=activity, person_id=principal.person_id, role="participant"
        )
    await session.flush()
    await reads.record_activity_event(session, activity)
    return activity


async def update_activity(
    session: AsyncSession, activity: Activity, *, principal: Principal, data: ActivityUpdate
) -> Activity:
    """``activity`` was fetched for writing (locked) by the caller."""
    ensure_active(activity)
    changes = data.model_dump(exclude_unset=True)
    if activity.source != "manual":
        owned = sorted(FROM_SOURCE.intersection(changes))
        if owned:
            raise ManagedElsewhere(
                "This activity comes from a lesson study; change " + ", ".join(owned) + " there.",
                errors=[
                    {"loc": f"body.{name}", "msg": "set by the lesson study"} for name in owned
                ],
            )
    subject_specific = changes.get("subject_specific", activity.subject_specific)
    subject = changes.get("subject", activity.subject)
    if "subject_specific" in changes and not subject_specific and "subject" not in changes:
        subject = None
    if subject_specific and not subject:
        raise InvalidActivity(
            "A subject-specific activity names its subject.",
            errors=[{"loc": "body.subject", "msg": "required when subject_specific"}],
        )
    if not subject_specific and subject:
        raise InvalidActivity(
            "A generic activity has no subject.",
            errors=[{"loc": "body.subject", "msg": "only for subject-specific activities"}],
        )
    if "school_ids" in changes and set(changes["school_ids"]) != set(activity.school_ids):
        await check_schools(session, changes["school_ids"], principal=principal)
    gap_task = changes.get("gap_task", activity.gap_task)
    if changes.get("gap_task_due_on", activity.gap_task_due_on) is not None and not gap_task:
        raise InvalidActivity(
            "A gap task due date needs the gap task.",
            errors=[{"loc": "body.gap_task", "msg": "required with gap_task_due_on"}],
        )
    if changes.get("provider_id") is not None:
        await providers_service.check_provider(
            session, changes["provider_id"], trust_id=activity.trust_id
        )
    if data.need_ids is not None:
        await _set_needs(session, activity, data.need_ids)
    if data.sessions is not None:
        await activity_sessions.replace_sessions(session, activity, data.sessions)
    if data.costs is not None:
        _set_costs(activity, data.costs, only_given=True)
    activity.subject_specific, activity.subject = subject_specific, subject
    for name in (
        "title",
        "kind",
        "provider_id",
        "school_ids",
        "focus",
        "release_time_hours",
        "intent",
        "gap_task",
        "gap_task_due_on",
    ):
        if name in changes:
            setattr(activity, name, getattr(data, name))
    activity.updated_at = utcnow()
    await session.flush()
    await reads.record_activity_event(session, activity)
    return activity


async def cancel_activity(
    session: AsyncSession, activity: Activity, *, reason: str | None
) -> Activity:
    ensure_active(activity)
    activity.status = "cancelled"
    activity.cancelled_at = utcnow()
    activity.cancel_reason = reason
    activity.updated_at = utcnow()
    await session.flush()
    await reads.record_activity_event(session, activity)
    return activity


async def delete_activity(session: AsyncSession, activity: Activity) -> None:
    """Deletes an activity recorded in error (one that happened is cancelled or kept)."""
    if activity.source != "manual":
        raise ManagedElsewhere(
            "This activity comes from a lesson study and cannot be deleted here."
        )
    if await session.scalar(select(exists().where(ProgrammeRun.activity_id == activity.id))):
        raise ManagedElsewhere(
            "This activity is a published run of the trust's CPD offer; cancel the run "
            "(/v1/programmes/{id}/runs/{run_id}/cancel) instead."
        )
    participants = list(
        await session.scalars(select(Participant).where(Participant.activity_id == activity.id))
    )
    for p in participants:
        participants_service.record_removed(session, activity, p)
    await reads.record_activity_event(session, activity, removed=True)
    # Listed to trust admins, leaders of its schools, who recorded it and its participants
    # (access.visible_to).
    await tombstones.record(
        session,
        Tombstone,
        resource="activities",
        ids=[activity.id],
        trust_id=activity.trust_id,
        visible_to=tombstones.audience(
            people=[activity.created_by, *(p.person_id for p in participants)],
            roles=("trust_admin",),
            school_roles=("school_leader",),
            schools=activity.school_ids or [],
        ),
    )
    await session.delete(activity)
    await session.flush()


async def set_impact_note(session: AsyncSession, activity: Activity, *, note: str) -> Activity:
    """The school's longer-term note on what the activity changed (kept on cancelled ones too:
    it is about what happened)."""
    activity.impact_note = note
    activity.impact_noted_at = utcnow()
    activity.updated_at = utcnow()
    await session.flush()
    return activity
