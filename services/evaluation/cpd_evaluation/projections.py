"""The needs register projection, from ``audit.need.recorded`` events (the directory
projection is cpd_common's)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_evaluation.models import Need


async def need_recorded(
    session: AsyncSession, event: CloudEvent, payload: catalogue.NeedRecorded
) -> None:
    """Upserts the need (a redelivered or replayed event changes nothing)."""
    values = {
        "id": payload.need_id,
        "trust_id": payload.trust_id,
        "school_id": payload.school_id,
        "level": payload.level,
        "need_types": list(payload.need_types),
        "priority": payload.priority,
        "audit_id": payload.audit_id,
        "item_keys": list(payload.item_keys),
        "recorded_at": event.time,
    }
    stmt = insert(Need).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={k: stmt.excluded[k] for k in values if k not in ("id", "trust_id")},
            # A need never moves to another trust.
            where=Need.trust_id == stmt.excluded.trust_id,
        )
    )
