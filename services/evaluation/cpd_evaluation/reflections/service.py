"""Reflections (evaluation level 2): a participant's journal on an activity: what I tried,
what happened for pupils, what next.

Private to the author and the mentor they share an entry with; an entry the author marks as
shared evidence is read by everyone who can read the activity. Leaders see counts of the
private entries, never their words. To anyone else an entry does not exist (404).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, utcnow
from cpd_evaluation.activities.errors import ActivityNotFound
from cpd_evaluation.membership import (
    activity_in_trust,
    can_see,
    is_person_of_trust,
    participation_of,
)
from cpd_evaluation.models import Activity
from cpd_evaluation.models.voice import Reflection
from cpd_evaluation.reflections.errors import (
    AuthorOnly,
    InvalidReflection,
    ParticipantsOnly,
    ReflectionNotFound,
)
from cpd_evaluation.reflections.schemas import (
    ReflectionCounts,
    ReflectionCreate,
    ReflectionUpdate,
)


def readable_by(principal: Principal, *, sees_activity: bool) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if principal.person_id is not None:
        conditions.append(Reflection.author_id == principal.person_id)
        conditions.append(Reflection.mentor_id == principal.person_id)
    if sees_activity:
        conditions.append(Reflection.shared_as_evidence.is_(True))
    return or_(*conditions) if conditions else false()


async def activity_for_reading(
    session: AsyncSession, activity_id: uuid.UUID, *, principal: Principal
) -> tuple[Activity, bool]:
    """The activity and whether the caller sees it. A mentor who does not see the activity
    reads the entries shared with them; for anyone else who does not see it, it is 404."""
    activity = await activity_in_trust(session, activity_id, principal=principal)
    sees = await can_see(session, activity, principal=principal)
    if not sees:
        mentor = principal.person_id is not None and await session.scalar(
            select(
                exists().where(
                    Reflection.activity_id == activity.id,
                    Reflection.mentor_id == principal.person_id,
                )
            )
        )
        if not mentor:
            raise ActivityNotFound()
    return activity, sees


def list_query(activity: Activity, *, principal: Principal, sees_activity: bool) -> Select[Any]:
    return select(Reflection).where(
        Reflection.activity_id == activity.id,
        readable_by(principal, sees_activity=sees_activity),
    )


async def get_reflection(
    session: AsyncSession, activity_id: uuid.UUID, reflection_id: uuid.UUID, *, principal: Principal
) -> Reflection:
    activity, sees = await activity_for_reading(session, activity_id, principal=principal)
    return await scalar_or_raise(
        session,
        list_query(activity, principal=principal, sees_activity=sees).where(
            Reflection.id == reflection_id
        ),
        ReflectionNotFound,
    )


async def _check_mentor(
    session: AsyncSession, mentor_id: uuid.UUID | None, *, principal: Principal
) -> None:
    if mentor_id is None:
        return
    if mentor_id == principal.person_id:
        raise InvalidReflection(
            "Share with someone else: you read your own entries anyway.",
            errors=[{"loc": "body.mentor_id", "msg": "that is you"}],
        )
    if not await is_person_of_trust(session, mentor_id, trust_id=principal.trust_id):
        raise InvalidReflection(
            "Your mentor must be a member of staff of your trust.",
            errors=[{"loc": "body.mentor_id", "msg": "unknown person"}],
        )


async def create_reflection(
    session: AsyncSession, activity: Activity, *, principal: Principal, data: ReflectionCreate
) -> Reflection:
    if await participation_of(session, activity, principal.person_id) is None:
        raise ParticipantsOnly("Only people who take part in the activity reflect on it here.")
    await _check_mentor(session, data.mentor_id, principal=principal)
    assert principal.person_id is not None  # a participant is a person
    reflection = Reflection(
        activity_id=activity.id,
        trust_id=activity.trust_id,
        author_id=principal.person_id,
        mentor_id=data.mentor_id,
        written_on=data.written_on or utcnow().date(),
        tried=data.tried,
        pupil_effect=data.pupil_effect,
        next_steps=data.next_steps,
        shared_as_evidence=data.shared_as_evidence,
    )
    session.add(reflection)
    await session.flush()
    return reflection


def _ensure_author(reflection: Reflection, principal: Principal) -> None:
    if reflection.author_id != principal.person_id:
        raise AuthorOnly("Only the author changes or deletes a reflection.")


async def update_reflection(
    session: AsyncSession, reflection: Reflection, *, principal: Principal, data: ReflectionUpdate
) -> Reflection:
    _ensure_author(reflection, principal)
    changes = data.model_dump(exclude_unset=True)
    if "mentor_id" in changes:
        await _check_mentor(session, data.mentor_id, principal=principal)
    for name, value in changes.items():
        setattr(reflection, name, value)
    if not (reflection.tried or reflection.pupil_effect or reflection.next_steps):
        raise InvalidReflection(
            "An entry says something: keep at least one of tried, pupil_effect and next_steps.",
            errors=[{"loc": "body", "msg": "all three would be empty"}],
        )
    reflection.updated_at = utcnow()
    await session.flush()
    return reflection


async def delete_reflection(
    session: AsyncSession, reflection: Reflection, *, principal: Principal
) -> None:
    _ensure_author(reflection, principal)
    # Shared as evidence, anyone who sees the activity read it; else its author and mentor.
    readers = None
    if not reflection.shared_as_evidence:
        readers = [p for p in (reflection.author_id, reflection.mentor_id) if p is not None]
    await tombstones.delete(
        session, reflection, parent_id=reflection.activity_id, visible_to=readers
    )


async def counts(session: AsyncSession, activity: Activity) -> ReflectionCounts:
    shared, private = (
        await session.execute(
            select(
                func.count().filter(Reflection.shared_as_evidence.is_(True)),
                func.count().filter(Reflection.shared_as_evidence.is_(False)),
            ).where(Reflection.activity_id == activity.id)
        )
    ).one()
    return ReflectionCounts(
        activity_id=activity.id, private=int(private), shared_as_evidence=int(shared)
    )
