"""The needs register as this service knows it (from ``audit.need.recorded``): enough to check
that an enquiry or learning community links to needs of its own trust."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_lessonstudy.models import KnownNeed


async def need_recorded(
    session: AsyncSession, event: CloudEvent, payload: catalogue.NeedRecorded
) -> None:
    stmt = insert(KnownNeed).values(
        id=payload.need_id,
        trust_id=payload.trust_id,
        school_id=payload.school_id,
        level=payload.level,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[KnownNeed.id],
            set_={"school_id": stmt.excluded.school_id, "level": stmt.excluded.level},
        )
    )
