"""Right to erasure for the CPD offer: the person's requests and calendar feed."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_evaluation.models.offer import CalendarFeed, CpdRequest


async def erase_person(session: AsyncSession, person_id: uuid.UUID, trust_id: uuid.UUID) -> None:
    """Open, declined and cancelled requests go; approved ones stay as anonymous records
    (no person, no rationale, no reason) so the school's budget still adds up, as a former
    participant's hours stay in an activity's figures. Their calendar feed token goes."""
    # Each request's tombstone to who could list it: the requester, the leaders of its
    # school and trust admins (service.visible).
    schools = await session.scalars(
        select(CpdRequest.school_id)
        .where(CpdRequest.person_id == person_id, CpdRequest.trust_id == trust_id)
        .distinct()
    )
    for school_id in list(schools):
        await tombstones.delete_where(
            session,
            CpdRequest,
            CpdRequest.person_id == person_id,
            CpdRequest.trust_id == trust_id,
            CpdRequest.status != "approved",
            CpdRequest.school_id.is_(None)
            if school_id is None
            else CpdRequest.school_id == school_id,
            visible_to=tombstones.audience(
                people=[person_id],
                roles=("trust_admin",),
                school_roles=("school_leader",),
                schools=[school_id] if school_id is not None else [],
            ),
        )
    await session.execute(
        update(CpdRequest)
        .where(CpdRequest.person_id == person_id, CpdRequest.trust_id == trust_id)
        .values(person_id=None, rationale=None, reason=None)
    )
    await session.execute(
        update(CpdRequest)
        .where(CpdRequest.decided_by == person_id, CpdRequest.trust_id == trust_id)
        .values(decided_by=None)
    )
    await session.execute(
        delete(CalendarFeed).where(
            CalendarFeed.person_id == person_id, CalendarFeed.trust_id == trust_id
        )
    )
