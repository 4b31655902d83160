"""Projections of the audit service's events: the needs register (``audit.need.recorded``)
and closed audit rounds with their per-item aggregates (``audit.audit.closed``). The directory
projection is cpd_common's."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_evaluation.models import Need
from cpd_evaluation.models.measures import AuditRound, AuditRoundItem


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


async def audit_closed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.AuditClosed
) -> None:
    """Sets the closed round and its items' aggregates (the tables of ``models.measures``) as
    the event carries them: a redelivered or replayed event changes nothing, and a round never
    moves to another trust."""
    values = {
        "audit_id": payload.audit_id,
        "trust_id": payload.trust_id,
        "instrument_id": payload.instrument_id,
        "instrument_key": payload.instrument_key,
        "instrument_version": payload.instrument_version,
        "title": payload.title,
        "scope_kind": payload.scope.kind,
        "school_ids": list(payload.scope.school_ids),
        "respondent_count": payload.respondent_count,
        "min_group_size": payload.min_group_size,
        "closed_at": event.time,
    }
    stmt = insert(AuditRound).values(values)
    stored = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=["audit_id"],
            set_={k: stmt.excluded[k] for k in values if k not in ("audit_id", "trust_id")},
            where=AuditRound.trust_id == stmt.excluded.trust_id,
        ).returning(AuditRound.audit_id)
    )
    if stored is None or not payload.items:
        return
    columns = set(AuditRoundItem.__table__.columns.keys())
    items = insert(AuditRoundItem).values(
        [
            {
                **{k: v for k, v in item.model_dump().items() if k in columns},
                "audit_id": payload.audit_id,
                "position": position,
            }
            for position, item in enumerate(payload.items)
        ]
    )
    figures = columns - {"audit_id", "item_key"}
    await session.execute(
        items.on_conflict_do_update(
            index_elements=["audit_id", "item_key"],
            set_={name: items.excluded[name] for name in figures},
        )
    )
