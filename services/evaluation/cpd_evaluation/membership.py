"""Who takes part in an activity: lookups shared by feedback, reflections and coaching.

Reflections and the coaching log are read by people who may not see the activity itself (a
mentor the author shares with), so these look the activity up inside the caller's trust only;
each aggregate then decides what the caller may read (404 for everything else).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_evaluation.activities.access import visible_to
from cpd_evaluation.activities.errors import ActivityNotFound
from cpd_evaluation.models import Activity, Participant, Person


async def activity_in_trust(
    session: AsyncSession, activity_id: uuid.UUID, *, principal: Principal
) -> Activity:
    """The activity if it is in the caller's trust (404 otherwise), visible or not."""
    return await scalar_or_raise(
        session,
        select(Activity).where(Activity.id == activity_id, Activity.trust_id == principal.trust_id),
        ActivityNotFound,
    )


async def can_see(session: AsyncSession, activity: Activity, *, principal: Principal) -> bool:
    """Whether the caller may read the activity itself (``activities.access`` rules)."""
    found = await session.scalar(
        select(Activity.id).where(Activity.id == activity.id, visible_to(principal))
    )
    return found is not None


async def participation_of(
    session: AsyncSession, activity: Activity, person_id: uuid.UUID | None
) -> Participant | None:
    if person_id is None:
        return None
    participant: Participant | None = await session.scalar(
        select(Participant).where(
            Participant.activity_id == activity.id, Participant.person_id == person_id
        )
    )
    return participant


async def is_person_of_trust(
    session: AsyncSession, person_id: uuid.UUID, *, trust_id: uuid.UUID
) -> bool:
    found = await session.scalar(
        select(Person.id).where(
            Person.id == person_id, Person.trust_id == trust_id, Person.active.is_(True)
        )
    )
    return found is not None
