"""A service's worker process: the outbox relay, the event consumers and the hourly
housekeeping (sent outbox rows, expired idempotency keys, tombstones older than 35 days), plus health probes.

The API process never talks to NATS; this process does, for one service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import nats
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cpd_common import idempotency, tombstones
from cpd_common.db import create_engine, create_sessionmaker
from cpd_common.events import outbox
from cpd_common.events.inbox import Subscription, run_consumers
from cpd_common.events.outbox import _sleep_or_stop, run_relay
from cpd_common.heartbeat import beat_forever
from cpd_common.logs import configure_logging
from cpd_common.settings import ServiceSettings

log = logging.getLogger("cpd.worker")


def health_app(settings: ServiceSettings, engine: object) -> Starlette:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks = {"database": "ok", "nats": "ok"}
        try:
            async with engine.connect() as conn:  # type: ignore[attr-defined]
                await conn.execute(text("SELECT 1"))
        except Exception:
            checks["database"] = "unreachable"
        try:
            nc = await nats.connect(settings.nats_url, connect_timeout=1, max_reconnect_attempts=0)
            await nc.close()
        except Exception:
            checks["nats"] = "unreachable"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", **checks},
            status_code=200 if ok else 503,
            headers=None if ok else {"Retry-After": str(settings.retry_after_seconds)},
        )

    async def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    )


HOUSEKEEPING_INTERVAL = 3600.0


async def run_housekeeping(
    sessionmaker: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    *,
    interval: float = HOUSEKEEPING_INTERVAL,
) -> None:
    """At start and then every ``interval`` seconds: deletes outbox rows sent more than a day
    ago, idempotency keys past their 24 hours and tombstones past their 35 days, in one
    transaction. A failure (database
    down) is logged and tried again at the next round."""
    while not stop.is_set():
        try:
            async with sessionmaker() as session, session.begin():
                await outbox.prune_sent(session)
                await idempotency.prune_expired(session)
                await tombstones.prune_expired(session)
        except Exception as exc:
            log.warning("housekeeping: %s; trying again in %.0fs", exc, interval)
        await _sleep_or_stop(stop, interval)


@dataclass(frozen=True)
class PeriodicTask:
    """A service's own periodic job (e.g. telling follow-ups that fell due): ``run`` gets a
    session inside a transaction, at start and then every ``interval`` seconds. It must be
    safe to run twice and in two replicas at once (back it with a unique constraint)."""

    name: str
    interval: float
    run: Callable[[AsyncSession], Awaitable[object]]


async def run_periodic(
    sessionmaker: async_sessionmaker[AsyncSession], stop: asyncio.Event, task: PeriodicTask
) -> None:
    """Like housekeeping: a failed round (database down) is logged and tried again later."""
    while not stop.is_set():
        try:
            async with sessionmaker() as session, session.begin():
                await task.run(session)
        except Exception as exc:
            log.warning("%s: %s; trying again in %.0fs", task.name, exc, task.interval)
        await _sleep_or_stop(stop, task.interval)


async def run(
    settings: ServiceSettings,
    subscriptions: Sequence[Subscription],
    *,
    stop: asyncio.Event | None = None,
    health_port: int | None = None,
    periodic: Sequence[PeriodicTask] = (),
) -> int:
    """Runs until ``stop`` is set (0) or one of its loops dies (1)."""
    stop = stop or asyncio.Event()
    engine = create_engine(settings.database_url, pool_size=4, max_overflow=4)
    sessionmaker = create_sessionmaker(engine)
    tasks = [
        asyncio.create_task(
            run_relay(
                engine,
                sessionmaker,
                settings.nats_url,
                stop,
                stream_replicas=settings.stream_replicas,
            ),
            name="relay",
        ),
        asyncio.create_task(run_housekeeping(sessionmaker, stop), name="housekeeping"),
        *(
            asyncio.create_task(run_periodic(sessionmaker, stop, task), name=task.name)
            for task in periodic
        ),
    ]
    if subscriptions:
        tasks.append(
            asyncio.create_task(
                run_consumers(
                    sessionmaker,
                    settings.nats_url,
                    list(subscriptions),
                    stop,
                    stream_replicas=settings.stream_replicas,
                ),
                name="consumers",
            )
        )
    core = list(tasks)
    tasks.append(
        asyncio.create_task(
            beat_forever(
                engine,
                stop,
                interval=settings.worker_heartbeat_seconds,
                healthy=lambda: not any(task.done() for task in core),
            ),
            name="heartbeat",
        )
    )
    server = None
    if health_port:
        config = uvicorn.Config(
            health_app(settings, engine),
            host=settings.worker_health_host,
            port=health_port,
            log_level="warning",
        )
        server = uvicorn.Server(config)
        # ``_serve`` rather than ``serve``: ``serve`` captures SIGINT/SIGTERM for itself, and the
        # worker's own handlers must decide when to stop.
        tasks.append(asyncio.create_task(server._serve(), name="health"))
    log.info("worker started", extra={"path": settings.service_name})
    stopped = asyncio.create_task(stop.wait(), name="stop")
    failed: list[asyncio.Task[None]] = []
    try:
        done, _ = await asyncio.wait([stopped, *core], return_when=asyncio.FIRST_COMPLETED)
        failed = [task for task in core if task in done]
        for task in failed:
            # A loop that ends before stop was asked for is a dead worker: exit non-zero so
            # the supervisor (cpd up, Docker, Kubernetes) starts a fresh one.
            exc = None if task.cancelled() else task.exception()
            log.error("worker loop %s ended unexpectedly: %r", task.get_name(), exc)
    finally:
        stop.set()
        stopped.cancel()
        if server is not None:
            server.should_exit = True
        _done, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task
        await engine.dispose()
        log.info("worker stopped")
    return 1 if failed else 0


def run_worker(
    settings: ServiceSettings,
    subscriptions: Sequence[Subscription],
    *,
    periodic: Sequence[PeriodicTask] = (),
) -> None:
    configure_logging(
        f"{settings.service_name}-worker", level=settings.log_level, json_logs=settings.log_json
    )

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run(
            settings,
            subscriptions,
            stop=stop,
            health_port=settings.worker_health_port,
            periodic=periodic,
        )

    sys.exit(asyncio.run(main()))
