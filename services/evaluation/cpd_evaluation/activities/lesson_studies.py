"""Lesson studies arrive by events: one activity of kind lesson study per study, its members
as participants, a session per completed research lesson (on the day it was taught, so
whether the study is sustained follows from its cycles), and the hours the group recorded.

Every write is an upsert keyed by the lesson study's own ids (the activity by
``(source, source_id)``, a session by its ``source_ref``, hours by participant and
``source_ref``) and sets values rather than adding to them, so an event handled twice
(redelivery, a replayed stream, a rebuilt projection) changes nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.db import utcnow, uuid7
from cpd_common.events import Event, catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Handler
from cpd_evaluation.activities import service as activities_service
from cpd_evaluation.models import Activity, ActivitySession, Participant, SourceHours
from cpd_evaluation.participants import service as participants_service
from cpd_evaluation.participants.hours import LESSON_PREFIX, STUDY_TOTAL

SOURCE = "lessonstudy"
UNTITLED = "Lesson study"


async def _upsert_activity(
    session: AsyncSession,
    *,
    study_id: uuid.UUID,
    trust_id: uuid.UUID,
    school_ids: list[uuid.UUID],
    details: dict[str, object] | None,
) -> Activity:
    """The study's activity, created on the first event that names the study (events of one
    study can arrive out of order after a redelivery); ``details`` come from study.started."""
    values: dict[str, object] = {
        "id": uuid7(),
        "trust_id": trust_id,
        "title": UNTITLED,
        "kind": "lesson_study",
        "status": "active",
        "school_ids": school_ids,
        "subject_specific": False,
        "fees": Decimal(0),
        "materials_cost": Decimal(0),
        "supply_cover_cost": Decimal(0),
        "release_time_hours": Decimal(0),
        "source": SOURCE,
        "source_id": study_id,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    values.update(details or {})
    stmt = insert(Activity).values(values)
    update = {"school_ids": stmt.excluded.school_ids, "updated_at": stmt.excluded.updated_at}
    if details:
        update.update({k: stmt.excluded[k] for k in details})
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["source", "source_id"],
            set_=update,
            # Never across trusts: a study id is the lesson study service's, in one trust.
            where=Activity.trust_id == stmt.excluded.trust_id,
        )
    )
    activity = await session.scalar(
        select(Activity)
        .where(Activity.source == SOURCE, Activity.source_id == study_id)
        .execution_options(populate_existing=True)
    )
    if activity is None or activity.trust_id != trust_id:
        # Only a forged or corrupted event can name another trust's study: fail loudly
        # (retried, then dead-lettered for an operator) rather than touch that trust's data.
        raise ValueError(f"lesson study {study_id} is not an activity of trust {trust_id}")
    return activity


async def _upsert_session(
    session: AsyncSession,
    activity: Activity,
    *,
    ref: str,
    title: str,
    held_on: object,
    minutes: int,
) -> None:
    stmt = insert(ActivitySession).values(
        id=uuid7(),
        trust_id=activity.trust_id,
        activity_id=activity.id,
        title=title,
        held_on=held_on,
        duration_minutes=minutes,
        source_ref=ref,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["activity_id", "source_ref"],
            set_={"title": stmt.excluded.title, "duration_minutes": stmt.excluded.duration_minutes},
        )
    )
    await activities_service.refresh_span(session, activity)


async def _participants(
    session: AsyncSession, activity: Activity, roles: dict[uuid.UUID, str | None]
) -> dict[uuid.UUID, uuid.UUID]:
    """Upserts a participant per person (with their study role when known); returns person
    id -> participant id."""
    if not roles:
        return {}
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
            for person_id, role in roles.items()
        ]
    )
    with_role = {p for p, r in roles.items() if r}
    if with_role and len(with_role) == len(roles):
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
    session: AsyncSession,
    activity: Activity,
    hours: list[catalogue.MemberHours],
    *,
    ref: str,
) -> list[uuid.UUID]:
    known = [h for h in hours if h.person_id is not None]  # erased members report no person
    ids = await _participants(session, activity, {h.person_id: None for h in known if h.person_id})
    rows: list[dict[str, Any]] = [
        {
            "participant_id": ids[h.person_id],
            "source_ref": ref,
            "trust_id": activity.trust_id,
            "hours": Decimal(str(round(h.hours, 2))),
        }
        for h in known
        if h.person_id in ids
    ]
    if rows:
        stmt = insert(SourceHours).values(rows)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["participant_id", "source_ref"],
                set_={"hours": stmt.excluded.hours, "reported_at": utcnow()},
            )
        )
    return [cast(uuid.UUID, r["participant_id"]) for r in rows]


async def study_started(
    session: AsyncSession, event: CloudEvent, payload: catalogue.StudyStarted
) -> None:
    activity = await _upsert_activity(
        session,
        study_id=payload.study_id,
        trust_id=payload.trust_id,
        school_ids=list(payload.school_ids),
        details={
            "title": payload.title[:200],
            "subject_specific": bool(payload.subject),
            "subject": payload.subject[:100] if payload.subject else None,
            "focus": payload.focus,
        },
    )
    ids = await _participants(
        session,
        activity,
        {m.person_id: m.role for m in payload.members if m.person_id is not None},
    )
    await activities_service.record_activity_event(session, activity)
    await participants_service.record_participation(session, activity, sorted(ids.values()))


async def lesson_completed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.LessonCompleted
) -> None:
    activity = await _upsert_activity(
        session,
        study_id=payload.study_id,
        trust_id=payload.trust_id,
        school_ids=list(payload.school_ids),
        details=None,
    )
    longest = max((h.hours for h in payload.hours), default=0.0)
    await _upsert_session(
        session,
        activity,
        ref=f"{LESSON_PREFIX}{payload.lesson_id}",
        title=f"Research lesson {payload.cycle}",
        held_on=payload.taught_on or event.time.date(),
        minutes=min(round(longest * 60), 1440),
    )
    changed = await _set_hours(
        session, activity, payload.hours, ref=f"{LESSON_PREFIX}{payload.lesson_id}"
    )
    await activities_service.record_activity_event(session, activity)
    await participants_service.record_participation(session, activity, changed)


async def study_completed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.StudyCompleted
) -> None:
    activity = await _upsert_activity(
        session,
        study_id=payload.study_id,
        trust_id=payload.trust_id,
        school_ids=list(payload.school_ids),
        details=None,
    )
    changed = await _set_hours(session, activity, payload.hours, ref=STUDY_TOTAL)
    await participants_service.record_participation(session, activity, changed)


HANDLERS: dict[type[Event], Handler] = {
    catalogue.StudyStarted: study_started,
    catalogue.LessonCompleted: lesson_completed,
    catalogue.StudyCompleted: study_completed,
}
