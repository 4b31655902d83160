"""Worker heartbeats: how an API process knows its worker is alive and not stuck.

The worker (outbox relay and consumers) writes a row into its service's ``worker_heartbeats``
table every few seconds while its loops are running; it stops beating when one of them has
died or its event loop is blocked. The API's ``/readyz`` reads the newest beat: none within
``worker_stale_seconds`` means events are not flowing, and the service says it is not ready.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import DateTime, String, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

log = logging.getLogger("cpd.heartbeat")

TABLE = "worker_heartbeats"


class WorkerHeartbeatMixin:
    """``class WorkerHeartbeat(WorkerHeartbeatMixin, Base): pass`` (the table name is fixed)."""

    __tablename__ = TABLE

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


_BEAT = text(
    f"INSERT INTO {TABLE} (worker, beat_at) VALUES (:worker, now()) "
    "ON CONFLICT (worker) DO UPDATE SET beat_at = now()"
)
_PRUNE = text(f"DELETE FROM {TABLE} WHERE beat_at < now() - interval '1 hour'")
_AGE = text(f"SELECT extract(epoch FROM now() - max(beat_at)) FROM {TABLE}")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat_forever(
    engine: AsyncEngine,
    stop: asyncio.Event,
    *,
    interval: float,
    healthy: Callable[[], bool],
    name: str | None = None,
) -> None:
    """Beats every ``interval`` seconds while ``healthy()`` holds, until ``stop`` is set."""
    name = name or worker_name()
    beats = 0
    while not stop.is_set():
        if healthy():
            try:
                async with engine.begin() as conn:
                    await conn.execute(_BEAT, {"worker": name})
                    if beats % 500 == 0:
                        await conn.execute(_PRUNE)
                beats += 1
            except Exception as exc:  # the database is down: readiness says so by itself
                log.warning("heartbeat not written: %s", type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


async def seconds_since_last_beat(conn: object) -> float | None:
    """Age of the newest heartbeat, ``None`` when no worker ever beat."""
    value = (await conn.execute(_AGE)).scalar()  # type: ignore[attr-defined]
    return None if value is None else float(value)
