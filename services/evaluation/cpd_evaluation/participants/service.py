"""Participants: who took part in an activity, their attendance per session, their hours
and (for training with a gap task) their impact report."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, utcnow
from cpd_common.events import catalogue
from cpd_common.schemas import from_row
from cpd_evaluation.activities.access import ensure_active, get_activity, leads
from cpd_evaluation.models import (
    Activity,
    ActivitySession,
    Attendance,
    Participant,
    Person,
)
from cpd_evaluation.participants.errors import (
    AlreadyParticipating,
    InvalidParticipation,
    OwnParticipationOnly,
    ParticipantNotFound,
)
from cpd_evaluation.participants.hours import hours_subquery
from cpd_evaluation.participants.schemas import (
    AttendanceIn,
    AttendanceRead,
    ImpactReportIn,
    ParticipantCreate,
    ParticipantRead,
    ParticipantUpdate,
)
from cpd_evaluation.terms import FORMER_PARTICIPANT


def _leads_or_admin(activity: Activity, principal: Principal) -> bool:
    return principal.is_trust_admin or leads(principal, activity.school_ids)


def _ensure_may_change(
    activity: Activity, person_id: uuid.UUID | None, principal: Principal
) -> None:
    """Leaders and trust admins change anyone's participation; whoever recorded their own
    CPD changes only their own."""
    if not _leads_or_admin(activity, principal) and person_id != principal.person_id:
        raise OwnParticipationOnly(
            "Only leaders of the activity's schools and trust admins change other people's "
            "participation."
        )


async def add_participant_row(
    session: AsyncSession,
    *,
    activity: Activity,
    person_id: uuid.UUID,
    role: str,
    hours: Decimal | None = None,
) -> Participant:
    """Adds a person known to the directory of the activity's trust (422 otherwise; 409 when
    they already take part: one participation per person and activity)."""
    known = await session.scalar(
        select(Person.id).where(Person.id == person_id, Person.trust_id == activity.trust_id)
    )
    if known is None:
        raise InvalidParticipation(
            "The person must be a member of staff of your trust.",
            errors=[{"loc": "body.person_id", "msg": "unknown person"}],
        )
    participant = Participant(
        activity_id=activity.id,
        trust_id=activity.trust_id,
        person_id=person_id,
        role=role,
        hours=hours,
        source="manual",
    )
    try:
        async with session.begin_nested():
            session.add(participant)
            await session.flush()
    except IntegrityError as exc:
        raise AlreadyParticipating(
            "This person already takes part in the activity; change their participation instead."
        ) from exc
    return participant


async def add_participant(
    session: AsyncSession, activity_id: uuid.UUID, *, principal: Principal, data: ParticipantCreate
) -> Participant:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    ensure_active(activity)
    _ensure_may_change(activity, data.person_id, principal)
    participant = await add_participant_row(
        session, activity=activity, person_id=data.person_id, role=data.role, hours=data.hours
    )
    await record_participation(session, activity, [participant.id])
    return participant


def list_query(activity: Activity, *, principal: Principal) -> Select[Any]:
    """Leaders, trust admins and whoever recorded the activity see every participant; a
    participant sees their own participation only."""
    stmt = select(Participant).where(Participant.activity_id == activity.id)
    if not (
        _leads_or_admin(activity, principal)
        or (principal.person_id is not None and activity.created_by == principal.person_id)
    ):
        stmt = stmt.where(Participant.person_id == principal.person_id)
    return stmt


async def get_participant(
    session: AsyncSession,
    activity: Activity,
    participant_id: uuid.UUID,
    *,
    principal: Principal,
) -> Participant:
    return await scalar_or_raise(
        session,
        list_query(activity, principal=principal).where(Participant.id == participant_id),
        ParticipantNotFound,
    )


async def update_participant(
    session: AsyncSession,
    activity: Activity,
    participant: Participant,
    *,
    principal: Principal,
    data: ParticipantUpdate,
) -> Participant:
    ensure_active(activity)
    _ensure_may_change(activity, participant.person_id, principal)
    changes = data.model_dump(exclude_unset=True)
    if "role" in changes:
        participant.role = changes["role"]
    if "hours" in changes:
        participant.hours = changes["hours"]
    participant.updated_at = utcnow()
    await session.flush()
    await record_participation(session, activity, [participant.id])
    return participant


async def remove_participant(
    session: AsyncSession, activity: Activity, participant: Participant, *, principal: Principal
) -> None:
    ensure_active(activity)
    _ensure_may_change(activity, participant.person_id, principal)
    record_removed(session, activity, participant)
    await tombstones.delete(session, participant, parent_id=activity.id)


async def set_attendance(
    session: AsyncSession, activity: Activity, *, principal: Principal, data: AttendanceIn
) -> None:
    """Marks attendance (set, not added: marking twice changes nothing)."""
    ensure_active(activity)
    participants = {
        p.id: p
        for p in await session.scalars(
            select(Participant).where(Participant.activity_id == activity.id)
        )
    }
    sessions = set(
        (
            await session.scalars(
                select(ActivitySession.id).where(ActivitySession.activity_id == activity.id)
            )
        ).all()
    )
    errors = []
    for i, mark in enumerate(data.marks):
        if mark.participant_id not in participants:
            errors.append(
                {
                    "loc": f"body.marks.{i}.participant_id",
                    "msg": "not a participant of this activity",
                }
            )
        else:
            _ensure_may_change(activity, participants[mark.participant_id].person_id, principal)
        if mark.session_id not in sessions:
            errors.append(
                {"loc": f"body.marks.{i}.session_id", "msg": "not a session of this activity"}
            )
    if errors:
        raise InvalidParticipation(
            "Attendance is marked for the activity's own participants and sessions.",
            errors=errors,
        )
    stmt = insert(Attendance).values(
        [
            {
                "participant_id": m.participant_id,
                "session_id": m.session_id,
                "trust_id": activity.trust_id,
                "attended": m.attended,
                "minutes": m.minutes if m.attended else None,
            }
            for m in data.marks
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["participant_id", "session_id"],
            set_={"attended": stmt.excluded.attended, "minutes": stmt.excluded.minutes},
        )
    )
    await record_participation(session, activity, sorted({m.participant_id for m in data.marks}))


async def attendance_of(
    session: AsyncSession, activity: Activity, *, principal: Principal
) -> list[AttendanceRead]:
    visible = list_query(activity, principal=principal).with_only_columns(Participant.id)
    rows = await session.scalars(
        select(Attendance)
        .where(Attendance.participant_id.in_(visible.scalar_subquery()))
        .order_by(Attendance.participant_id, Attendance.session_id)
    )
    return [AttendanceRead.model_validate(a) for a in rows]


async def report_impact(
    session: AsyncSession,
    activity: Activity,
    participant: Participant,
    *,
    principal: Principal,
    data: ImpactReportIn,
) -> Participant:
    """Only the delegate writes their own impact report (a leader reads it, never writes it)."""
    if principal.person_id is None or participant.person_id != principal.person_id:
        raise OwnParticipationOnly("Only the delegate writes their impact report.")
    participant.impact_report = data.report
    participant.impact_reported_at = utcnow()
    if data.gap_task_done_on is not None:
        participant.gap_task_done_on = data.gap_task_done_on
    participant.updated_at = utcnow()
    await session.flush()
    return participant


# ---- events -------------------------------------------------------------------------------


async def record_participation(
    session: AsyncSession, activity: Activity, participant_ids: Sequence[uuid.UUID]
) -> None:
    """Publishes ``evaluation.participation.recorded`` with each participant's current hours."""
    if not participant_ids:
        return
    await session.flush()
    hours = hours_subquery(Participant.id.in_(list(participant_ids)))
    for row in await session.execute(select(hours).order_by(hours.c.participant_id)):
        events.add(
            session,
            catalogue.ParticipationRecorded(
                participation_id=row.participant_id,
                activity_id=activity.id,
                trust_id=activity.trust_id,
                person_id=row.person_id,
                role=row.role,
                hours=float(row.hours),
            ),
        )


def record_removed(session: AsyncSession, activity: Activity, participant: Participant) -> None:
    events.add(
        session,
        catalogue.ParticipationRecorded(
            participation_id=participant.id,
            activity_id=activity.id,
            trust_id=activity.trust_id,
            person_id=participant.person_id,
            role=participant.role,
            hours=0.0,
            removed=True,
        ),
    )


# ---- read model ---------------------------------------------------------------------------


async def participant_reads(
    session: AsyncSession, participants: Sequence[Participant]
) -> list[ParticipantRead]:
    ids = [p.id for p in participants]
    if not ids:
        return []
    hours = hours_subquery(Participant.id.in_(ids))
    figures = {
        row.participant_id: (float(row.hours), row.basis)
        for row in await session.execute(select(hours))
    }
    person_ids = [p.person_id for p in participants if p.person_id is not None]
    names = dict(
        (
            await session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids)))
        ).all()
    )
    marks: dict[uuid.UUID, list[AttendanceRead]] = defaultdict(list)
    for a in await session.scalars(
        select(Attendance).where(Attendance.participant_id.in_(ids)).order_by(Attendance.session_id)
    ):
        marks[a.participant_id].append(AttendanceRead.model_validate(a))
    out = []
    for p in participants:
        h, basis = figures.get(p.id, (0.0, "attendance"))
        out.append(
            from_row(
                ParticipantRead,
                p,
                name=FORMER_PARTICIPANT
                if p.person_id is None
                else names.get(p.person_id, "Unknown person"),
                hours=h,
                hours_basis=basis,
                attendance=marks[p.id],
            )
        )
    return out


async def participant_read(session: AsyncSession, participant: Participant) -> ParticipantRead:
    return (await participant_reads(session, [participant]))[0]
