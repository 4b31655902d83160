"""Tombstones: what incremental sync (``?updated_since=``) says about deleted resources.

A list synced by ``updated_since`` cannot show a row that is gone, so the delete (or erasure)
path of a main resource records a tombstone in the same transaction: the resource's table
name, its id, its trust and when it went. Sync pages return it as ``{id, deleted: true,
updated_at}`` in the (``updated_at``, ``id``) order of the list (:mod:`cpd_common.pagination`).
Kept for :data:`KEEP_FOR` (the worker's housekeeping prunes older ones).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Index, String, Uuid, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from cpd_common.db import utcnow

KEEP_FOR = timedelta(days=35)


class TombstoneMixin:
    """A service's ``tombstones`` table: ``class Tombstone(TombstoneMixin, Base)``."""

    __tablename__ = "tombstones"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        return (Index("ix_tombstones_sync", "trust_id", "resource", "deleted_at", "id"),)

    resource: Mapped[str] = mapped_column(String(100), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    deleted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


async def record(
    session: AsyncSession,
    model: type[TombstoneMixin],
    *,
    resource: str,
    ids: list[uuid.UUID],
    trust_id: uuid.UUID,
) -> None:
    """Records that ``ids`` of ``resource`` (the table name of the listed model) are gone."""
    if not ids:
        return
    now = utcnow()
    stmt = insert(model).values(
        [{"resource": resource, "id": i, "trust_id": trust_id, "deleted_at": now} for i in ids]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["resource", "id"], set_={"deleted_at": stmt.excluded.deleted_at}
        )
    )


async def prune_expired(session: AsyncSession) -> None:
    """Forgets tombstones older than ``KEEP_FOR`` (the worker's housekeeping, hourly)."""
    await session.execute(
        text("DELETE FROM tombstones WHERE deleted_at <= now() - make_interval(secs => :keep)"),
        {"keep": KEEP_FOR.total_seconds()},
    )
