"""Activities: recording, listing, changing, cancelling and deleting CPD activities, their
sessions and the needs they answer; the read model with the derived sustained/one-off."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.events import catalogue
from cpd_evaluation.activities.access import (
    ACTIVITY_ROLES,
    ensure_active,
    get_activity,
    leads,
    visible_to,
)
from cpd_evaluation.activities.errors import (
    ActivityNotFound,
    CannotCreateActivity,
    InvalidActivity,
    ManagedElsewhere,
)
from cpd_evaluation.activities.schemas import (
    ActivityCreate,
    ActivityRead,
    ActivityUpdate,
    CostsIn,
    CostsRead,
    SessionIn,
    SessionRead,
)
from cpd_evaluation.activities.sustained import classify
from cpd_evaluation.models import (
    Activity,
    ActivityNeed,
    ActivitySession,
    Need,
    Participant,
    School,
)
from cpd_evaluation.participants import service as participants_service
from cpd_evaluation.providers import service as providers_service

# Fields a lesson study's events own: they cannot be changed here.
FROM_SOURCE = frozenset({"title", "kind", "school_ids", "subject_specific", "subject", "sessions"})


async def check_schools(
    session: AsyncSession, school_ids: list[uuid.UUID], *, principal: Principal
) -> None:
    known = set(
        (
            await session.scalars(
                select(School.id).where(
                    School.id.in_(school_ids), School.trust_id == principal.trust_id
                )
            )
        ).all()
    )
    unknown = [s for s in school_ids if s not in known]
    if unknown:
        raise InvalidActivity(
            "Every school must be a school of your trust.",
            errors=[{"loc": "body.school_ids", "msg": f"unknown school {s}"} for s in unknown],
        )
    if not principal.is_trust_admin and principal.school_ids.isdisjoint(school_ids):
        raise InvalidActivity(
            "An activity must include one of your own schools.",
            errors=[{"loc": "body.school_ids", "msg": "none of these schools is yours"}],
        )


async def _check_needs(
    session: AsyncSession, need_ids: list[uuid.UUID], *, trust_id: uuid.UUID
) -> None:
    if not need_ids:
        return
    known = set(
        (
            await session.scalars(
                select(Need.id).where(Need.id.in_(need_ids), Need.trust_id == trust_id)
            )
        ).all()
    )
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


async def refresh_span(session: AsyncSession, activity: Activity) -> None:
    """Keeps the first and last session dates on the activity (filters and the SQL form of
    sustained/one-off read them)."""
    await session.flush()
    first, last = (
        await session.execute(
            select(func.min(ActivitySession.held_on), func.max(ActivitySession.held_on)).where(
                ActivitySession.activity_id == activity.id
            )
        )
    ).one()
    activity.starts_on, activity.ends_on = first, last


async def _replace_sessions(
    session: AsyncSession, activity: Activity, sessions: list[SessionIn]
) -> None:
    current = {
        s.id: s
        for s in await session.scalars(
            select(ActivitySession).where(ActivitySession.activity_id == activity.id)
        )
    }
    unknown = [i for i, s in enumerate(sessions) if s.id is not None and s.id not in current]
    if unknown:
        raise InvalidActivity(
            "A session id must be one of the activity's sessions (leave it out to add one).",
            errors=[{"loc": f"body.sessions.{i}.id", "msg": "unknown session"} for i in unknown],
        )
    kept = {s.id for s in sessions if s.id is not None}
    gone = [sid for sid in current if sid not in kept]
    if gone:
        await session.execute(delete(ActivitySession).where(ActivitySession.id.in_(gone)))
    for s in sessions:
        if s.id is None:
            session.add(
                ActivitySession(
                    activity_id=activity.id,
                    trust_id=activity.trust_id,
                    title=s.title,
                    held_on=s.held_on,
                    duration_minutes=s.duration_minutes,
                )
            )
        else:
            row = current[s.id]
            row.title, row.held_on, row.duration_minutes = s.title, s.held_on, s.duration_minutes
    await refresh_span(session, activity)


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
    await _replace_sessions(session, activity, data.sessions)
    if not (principal.is_trust_admin or leads(principal, activity.school_ids)):
        await participants_service.add_participant_row(
            session, activity=activity, person_id=principal.person_id, role="participant"
        )
    await session.flush()
    await record_activity_event(session, activity)
    return activity


def list_query(
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    kind: str | None = None,
    provider_id: uuid.UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    need_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    q: str | None = None,
    status: str | None = None,
) -> Select[Any]:
    stmt = select(Activity).where(Activity.trust_id == principal.trust_id, visible_to(principal))
    if school_id is not None:
        stmt = stmt.where(Activity.school_ids.contains([school_id]))
    if kind is not None:
        stmt = stmt.where(Activity.kind == kind)
    if provider_id is not None:
        stmt = stmt.where(Activity.provider_id == provider_id)
    if status is not None:
        stmt = stmt.where(Activity.status == status)
    # An activity overlaps the range when its sessions do; one without sessions matches none.
    if date_from is not None:
        stmt = stmt.where(Activity.ends_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(Activity.starts_on <= date_to)
    if need_id is not None:
        stmt = stmt.where(
            exists().where(ActivityNeed.activity_id == Activity.id, ActivityNeed.need_id == need_id)
        )
    if person_id is not None:
        stmt = stmt.where(
            exists().where(
                Participant.activity_id == Activity.id, Participant.person_id == person_id
            )
        )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Activity.title.ilike(pattern, escape="\\"))
    return stmt


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
        await _replace_sessions(session, activity, data.sessions)
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
    await record_activity_event(session, activity)
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
    await record_activity_event(session, activity)
    return activity


async def delete_activity(session: AsyncSession, activity: Activity) -> None:
    """Deletes an activity recorded in error (one that happened is cancelled or kept)."""
    if activity.source != "manual":
        raise ManagedElsewhere(
            "This activity comes from a lesson study and cannot be deleted here."
        )
    participants = list(
        await session.scalars(select(Participant).where(Participant.activity_id == activity.id))
    )
    for p in participants:
        participants_service.record_removed(session, activity, p)
    await record_activity_event(session, activity, removed=True)
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


# ---- events -------------------------------------------------------------------------------


def total_cost(activity: Activity) -> Decimal:
    return (
        Decimal(activity.fees or 0)
        + Decimal(activity.materials_cost or 0)
        + Decimal(activity.supply_cover_cost or 0)
    )


async def record_activity_event(
    session: AsyncSession, activity: Activity, *, removed: bool = False
) -> None:
    read = await activity_read(session, activity)
    payload = catalogue.ActivityRecorded(
        activity_id=activity.id,
        trust_id=activity.trust_id,
        school_ids=list(activity.school_ids),
        title=activity.title,
        kind=activity.kind,
        status="cancelled" if activity.status == "cancelled" else "active",
        provider_id=activity.provider_id,
        subject_specific=activity.subject_specific,
        subject=activity.subject,
        need_ids=read.need_ids,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        sustained=read.sustained.sustained,
        total_cost=float(total_cost(activity)),
        origin=activity.source,
        origin_id=activity.source_id,
        removed=removed,
    )
    events.add(
        session,
        payload,
    )


# ---- read model ---------------------------------------------------------------------------


def _extras() -> tuple[Any, Any, Any]:
    """An activity's sessions (JSON, by date), need ids and participant count as correlated
    subqueries, so a read is one round trip."""
    sessions = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_object(
                            "id",
                            ActivitySession.id,
                            "title",
                            ActivitySession.title,
                            "held_on",
                            ActivitySession.held_on,
                            "duration_minutes",
                            ActivitySession.duration_minutes,
                        ),
                        ActivitySession.held_on,
                        ActivitySession.id,
                    )
                ),
                literal_column("'[]'::json"),
            )
        )
        .where(ActivitySession.activity_id == Activity.id)
        .scalar_subquery()
        .label("sessions")
    )
    needs = (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(ActivityNeed.need_id, ActivityNeed.need_id)),
                literal_column("'{}'::uuid[]"),
            )
        )
        .where(ActivityNeed.activity_id == Activity.id)
        .scalar_subquery()
        .label("need_ids")
    )
    count = (
        select(func.count())
        .where(Participant.activity_id == Activity.id)
        .scalar_subquery()
        .label("participant_count")
    )
    return sessions, needs, count


def _read(
    a: Activity, sessions: list[dict[str, Any]], needs: list[uuid.UUID], count: int
) -> ActivityRead:
    own = [SessionRead.model_validate(s) for s in sessions]
    return ActivityRead(
        id=a.id,
        trust_id=a.trust_id,
        title=a.title,
        kind=a.kind,
        status=a.status,
        provider_id=a.provider_id,
        school_ids=list(a.school_ids),
        subject_specific=a.subject_specific,
        subject=a.subject,
        focus=a.focus,
        need_ids=list(needs),
        sessions=own,
        starts_on=a.starts_on,
        ends_on=a.ends_on,
        session_hours=round(sum(s.duration_minutes for s in own) / 60, 2),
        sustained=classify([s.held_on for s in own]),
        costs=CostsRead(
            fees=float(a.fees),
            materials=float(a.materials_cost),
            supply_cover=float(a.supply_cover_cost),
            total=float(total_cost(a)),
        ),
        release_time_hours=float(a.release_time_hours),
        intent=a.intent,
        gap_task=a.gap_task,
        gap_task_due_on=a.gap_task_due_on,
        impact_note=a.impact_note,
        impact_noted_at=a.impact_noted_at,
        participant_count=int(count),
        source=a.source,
        source_id=a.source_id,
        created_by=a.created_by,
        created_at=a.created_at,
        updated_at=a.updated_at,
        cancelled_at=a.cancelled_at,
        cancel_reason=a.cancel_reason,
    )


async def activity_reads(
    session: AsyncSession, activities: Sequence[Activity]
) -> list[ActivityRead]:
    if not activities:
        return []
    rows = {
        row[0]: row[1:]
        for row in await session.execute(
            select(Activity.id, *_extras()).where(Activity.id.in_([a.id for a in activities]))
        )
    }
    return [_read(a, *rows[a.id]) for a in activities]


async def read_activity(
    session: AsyncSession, activity_id: uuid.UUID, *, principal: Principal
) -> ActivityRead:
    """A single activity the caller may see, read in one round trip (404 otherwise)."""
    row = (
        await session.execute(
            select(Activity, *_extras()).where(
                Activity.id == activity_id,
                Activity.trust_id == principal.trust_id,
                visible_to(principal),
            )
        )
    ).first()
    if row is None:
        raise ActivityNotFound()
    return _read(*row)


async def activity_read(session: AsyncSession, activity: Activity) -> ActivityRead:
    return (await activity_reads(session, [activity]))[0]


async def get_for_read(
    session: AsyncSession, activity_id: uuid.UUID, *, principal: Principal
) -> Activity:
    return await get_activity(session, activity_id, principal=principal)
