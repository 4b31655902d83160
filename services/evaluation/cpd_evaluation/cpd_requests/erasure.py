"""Right to erasure for the CPD offer: the person's requests and calendar feed."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_evaluation.models.offer import CalendarFeed, CpdRequest


async def erase_person(session: AsyncSession, person_id: uuid.UUID, trust_id: uuid.UUID) -> None:
    """Open, declined and cancelled requests go; approved ones stay as anonymous records
    (no person, no rationale, no reason) so the school's budget still adds up, as a former
    participant's hours stay in an activity's figures. Their calendar feed token goes."""
    await tombstones.delete_where(
        session,
        CpdRequest,
        CpdRequest.person_id == person_id,
        CpdRequest.trust_id == trust_id,
        CpdRequest.status != "approved",
        readers=[CpdRequest.person_id],
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
