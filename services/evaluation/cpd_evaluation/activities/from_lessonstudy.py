"""Collaborative CPD arrives from the lesson study service by events, each as one activity
(source ``lessonstudy``, keyed by the other service's id):

- a lesson study (``study.started``): its members as participants, a session per completed
  research lesson on the day it was taught, and each member's hours per cycle
  (``lesson.completed``) until the study's total arrives (``study.completed``);
- a classroom action enquiry, an enquiry group (``enquiry.started``/``enquiry.completed``): its
  members, the needs it answers, its start and completion as sessions, the members' hours;
- a learning community (``community.meeting_held``): a session per meeting and each
  attending member's hours for it.

So whether each is sustained follows from its own dates. Every write is an upsert keyed by
the other service's ids (the activity by ``(source, source_id)``, a session by its
``source_ref``, hours by participant and ``source_ref``) and sets values rather than adding to
them, so an event handled twice (redelivery, a replayed stream, a rebuilt projection)
changes nothing."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.db import utcnow, uuid7
from cpd_common.events import Event, catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Handler
from cpd_evaluation.activities import reads as activity_reads
from cpd_evaluation.activities import sessions as activity_sessions
from cpd_evaluation.models import (
    Activity,
    ActivityNeed,
    ActivitySession,
    Need,
    Participant,
    SourceHours,
)
from cpd_evaluation.participants import service as participants_service
from cpd_evaluation.participants.hours import TOTAL

SOURCE = "lessonstudy"
UNTITLED = {
    "lesson_study": "Lesson study",
    "enquiry_group": "Classroom enquiry",
    "learning_community": "Learning community",
}
LESSON_PREFIX = "lesson:"
MEETING_PREFIX = "meeting:"
ENQUIRY_STARTS = "enquiry:starts"
ENQUIRY_COMPLETED = "enquiry:completed"
ENQUIRY_ROLES = {"coordinator": "facilitator", "member": "participant"}


class _Sourced(Protocol):
    """What every event from the lesson study service says of its study, enquiry or
    community: its trust and its schools."""

    @property
    def trust_id(self) -> uuid.UUID: ...

    @property
    def school_ids(self) -> list[uuid.UUID]: ...


async def _upsert_activity(
    session: AsyncSession,
    kind: str,
    source_id: uuid.UUID,
    payload: _Sourced,
    details: dict[str, object] | None = None,
) -> Activity:
    """The activity of the other service's ``source_id``, created by the first event that
    names it (one study's events can arrive out of order after a redelivery), in the trust
    and schools the event names; ``details`` (title, subject, focus ...) come from the events
    that carry them."""
    trust_id = payload.trust_id
    values: dict[str, object] = {
        "id": uuid7(),
        "trust_id": trust_id,
        "title": UNTITLED[kind],
        "kind": kind,
        "status": "active",
        "school_ids": list(payload.school_ids),
        "subject_specific": False,
        "fees": Decimal(0),
        "materials_cost": Decimal(0),
        "supply_cover_cost": Decimal(0),
        "release_time_hours": Decimal(0),
        "source": SOURCE,
        "source_id": source_id,
        "created_at": utcnow(),
        "updated_at": utcnow(),
        **(details or {}),
    }
    stmt = insert(Activity).values(values)
    update = {"school_ids": stmt.excluded.school_ids, "updated_at": stmt.excluded.updated_at}
    update.update({k: stmt.excluded[k] for k in details or {}})
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["source", "source_id"],
            set_=update,
            # Never across trusts: the id is the other service's, in one trust.
            where=Activity.trust_id == stmt.excluded.trust_id,
        )
    )
    activity = await session.scalar(
        select(Activity)
        .where(Activity.source == SOURCE, Activity.source_id == source_id)
        .execution_options(populate_existing=True)
    )
    if activity is None or activity.trust_id != trust_id:
        # Only a forged or corrupted event can name another trust's study: fail loudly
        # (retried, then dead-lettered for an operator) rather than touch that trust's data.
        raise ValueError(f"{kind} {source_id} is not an activity of trust {trust_id}")
    return activity


def _longest_minutes(hours: list[catalogue.MemberHours]) -> int:
    """A session lasts as long as the longest any member reports for it."""
    return round(max((h.hours for h in hours), default=0.0) * 60)


def _subject(subject: str | None) -> dict[str, object]:
    return {
        "subject_specific": bool(subject),
        "subject": subject[:100] if subject else None,
    }


async def _upsert_session(
    session: AsyncSession,
    activity: Activity,
    *,
    ref: str,
    title: str,
    held_on: date,
    minutes: int,
) -> None:
    stmt = insert(ActivitySession).values(
        id=uuid7(),
        trust_id=activity.trust_id,
        activity_id=activity.id,
        title=title,
        held_on=held_on,
        duration_minutes=max(0, min(minutes, 1440)),
        source_ref=ref,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["activity_id", "source_ref"],
            set_={
                "title": stmt.excluded.title,
                "held_on": stmt.excluded.held_on,
                "duration_minutes": stmt.excluded.duration_minutes,
            },
        )
    )
    await activity_sessions.refresh_span(session, activity)


async def _participants(
    session: AsyncSession, activity: Activity, roles: dict[uuid.UUID, str | None]
) -> dict[uuid.UUID, uuid.UUID]:
    """Upserts a participant per person, setting their role when it is given (members of
    a study or enquiry) and keeping it otherwise (people named only with hours); returns
    person id -> participant id."""
    for with_role in (True, False):
        batch = {p: r for p, r in roles.items() if (r is not None) is with_role}
        if not batch:
            continue
        stmt = insert(Participant).values(
            [
                {
                    "id": uuid7(),
                    "trust_id": activity.trust_id,
                    "activity_id": activity.id,
                    "person_id": person_id,
                    "role": role or "participant",
                    "source": SOURCE,
                    "former_participant": False,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for person_id, role in batch.items()
            ]
        )
        if with_role:
            stmt = stmt.on_conflict_do_update(
                index_elements=["activity_id", "person_id"],
                set_={"role": stmt.excluded.role, "source": SOURCE},
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=["activity_id", "person_id"])
        await session.execute(stmt)
    rows = await session.execute(
        select(Participant.person_id, Participant.id).where(
            Participant.activity_id == activity.id, Participant.person_id.in_(list(roles))
        )
    )
    return {person_id: pid for person_id, pid in rows.all() if person_id is not None}


async def _set_hours(
    session: AsyncSession, activity: Activity, hours: list[catalogue.MemberHours], *, ref: str
) -> list[uuid.UUID]:
    """Sets each named person's hours for ``ref`` (erased members report no person)."""
    known = {h.person_id: h.hours for h in hours if h.person_id is not None}
    ids = await _participants(session, activity, dict.fromkeys(known))
    rows = [
        {
            "participant_id": ids[person_id],
            "source_ref": ref,
            "trust_id": activity.trust_id,
            "hours": Decimal(str(round(value, 2))),
        }
        for person_id, value in known.items()
        if person_id in ids
    ]
    if rows:
        stmt = insert(SourceHours).values(rows)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["participant_id", "source_ref"],
                set_={"hours": stmt.excluded.hours, "reported_at": utcnow()},
            )
        )
    return sorted(ids[p] for p in known if p in ids)


async def _link_needs(session: AsyncSession, activity: Activity, need_ids: list[uuid.UUID]) -> None:
    """Links the needs this service knows (a need recorded later is not linked)."""
    if not need_ids:
        return
    known = (
        await session.scalars(
            select(Need.id).where(Need.id.in_(need_ids), Need.trust_id == activity.trust_id)
        )
    ).all()
    if known:
        await session.execute(
            insert(ActivityNeed)
            .values(
                [
                    {"activity_id": activity.id, "need_id": n, "trust_id": activity.trust_id}
                    for n in known
                ]
            )
            .on_conflict_do_nothing()
        )


async def _recorded(
    session: AsyncSession, activity: Activity, participant_ids: list[uuid.UUID]
) -> None:
    await activity_reads.record_activity_event(session, activity)
    await participants_service.record_participation(session, activity, participant_ids)


async def _members_recorded(
    session: AsyncSession, activity: Activity, roles: dict[uuid.UUID, str | None]
) -> None:
    """A study's or enquiry's members (person id -> role) as its participants."""
    ids = await _participants(session, activity, roles)
    await _recorded(session, activity, sorted(ids.values()))


# ---- lesson studies -----------------------------------------------------------------------


async def study_started(
    session: AsyncSession, event: CloudEvent, payload: catalogue.StudyStarted
) -> None:
    activity = await _upsert_activity(
        session,
        "lesson_study",
        payload.study_id,
        payload,
        details={"title": payload.title[:200], "focus": payload.focus, **_subject(payload.subject)},
    )
    await _members_recorded(
        session, activity, {m.person_id: m.role for m in payload.members if m.person_id is not None}
    )


async def lesson_completed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.LessonCompleted
) -> None:
    activity = await _upsert_activity(session, "lesson_study", payload.study_id, payload)
    ref = f"{LESSON_PREFIX}{payload.lesson_id}"
    await _upsert_session(
        session,
        activity,
        ref=ref,
        title=f"Research lesson {payload.cycle}",
        held_on=payload.taught_on or event.time.date(),
        minutes=_longest_minutes(payload.hours),
    )
    await _recorded(session, activity, await _set_hours(session, activity, payload.hours, ref=ref))


async def study_completed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.StudyCompleted
) -> None:
    activity = await _upsert_activity(session, "lesson_study", payload.study_id, payload)
    changed = await _set_hours(session, activity, payload.hours, ref=TOTAL)
    await participants_service.record_participation(session, activity, changed)


# ---- classroom action enquiries -----------------------------------------------------------


async def _enquiry_moment(
    session: AsyncSession,
    payload: catalogue.EnquiryStarted | catalogue.EnquiryCompleted,
    *,
    ref: str,
    title: str,
    held_on: date,
    **details: object,
) -> Activity:
    """The enquiry's activity (title, subject and any other ``details`` from the event) and
    a session of no length marking the moment it started or completed."""
    activity = await _upsert_activity(
        session,
        "enquiry_group",
        payload.enquiry_id,
        payload,
        details={"title": payload.title[:200], **details, **_subject(payload.subject)},
    )
    await _upsert_session(session, activity, ref=ref, title=title, held_on=held_on, minutes=0)
    return activity


async def enquiry_started(
    session: AsyncSession, event: CloudEvent, payload: catalogue.EnquiryStarted
) -> None:
    activity = await _enquiry_moment(
        session,
        payload,
        ref=ENQUIRY_STARTS,
        title="The enquiry begins collecting data",
        held_on=payload.starts_on or event.time.date(),
        focus=payload.question,
    )
    await _link_needs(session, activity, list(payload.need_ids))
    await _members_recorded(
        session,
        activity,
        {m.person_id: ENQUIRY_ROLES[m.role] for m in payload.members if m.person_id is not None},
    )


async def enquiry_completed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.EnquiryCompleted
) -> None:
    activity = await _enquiry_moment(
        session,
        payload,
        ref=ENQUIRY_COMPLETED,
        title="The enquiry is completed and reported",
        held_on=payload.completed_on or event.time.date(),
    )
    await _recorded(
        session, activity, await _set_hours(session, activity, payload.hours, ref=TOTAL)
    )


# ---- learning communities -----------------------------------------------------------------


async def community_meeting_held(
    session: AsyncSession, event: CloudEvent, payload: catalogue.CommunityMeetingHeld
) -> None:
    activity = await _upsert_activity(
        session,
        "learning_community",
        payload.community_id,
        payload,
        details={"title": payload.name[:200]},
    )
    ref = f"{MEETING_PREFIX}{payload.meeting_id}"
    title = f"Meeting (cycle {payload.cycle})" if payload.cycle else "Meeting"
    await _upsert_session(
        session,
        activity,
        ref=ref,
        title=title,
        held_on=payload.held_on,
        minutes=_longest_minutes(payload.hours),
    )
    await _recorded(session, activity, await _set_hours(session, activity, payload.hours, ref=ref))


HANDLERS: dict[type[Event], Handler] = {
    catalogue.StudyStarted: study_started,
    catalogue.LessonCompleted: lesson_completed,
    catalogue.StudyCompleted: study_completed,
    catalogue.EnquiryStarted: enquiry_started,
    catalogue.EnquiryCompleted: enquiry_completed,
    catalogue.CommunityMeetingHeld: community_meeting_held,
}
