"""The relay and the consumers through NATS outages, against real PostgreSQL and a real NATS
server that is stopped and started: nothing is lost or delivered twice."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import nats
import pytest
from sqlalchemy import func, select

from cpd_common.events.inbox import run_consumers
from cpd_common.events.outbox import run_relay
from cpd_common.testing.waiting import wait_for

from .events_helpers import (
    Dead,
    Inbox,
    Outbox,
    School,
    at_least,
    school_event,
    stream_messages,
    subscription,
)

# A short publish-ack timeout for the outage tests, so an outage "longer than the timeout"
# stays short (the relay's default is PUBLISH_TIMEOUT).
ACK_TIMEOUT = 0.3


async def test_relay_and_consumer_loops_survive_nats_outage(db, nats_server, nats_clean) -> None:  # type: ignore[no-untyped-def]
    engine, sessionmaker = db
    sub = subscription(durable="loop-directory")
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(engine, sessionmaker, nats_clean, stop))
    consumers = asyncio.create_task(run_consumers(sessionmaker, nats_clean, [sub], stop))
    try:
        async with sessionmaker() as session, session.begin():
            school_event(session, "Before outage")

        async def schools() -> int:
            async with sessionmaker() as session:
                return int(await session.scalar(select(func.count()).select_from(School)) or 0)

        await wait_for(lambda: at_least(schools, 1), timeout=10)
        await asyncio.to_thread(nats_server.stop)
        async with sessionmaker() as session, session.begin():
            for i in range(10):
                school_event(session, f"During outage {i}")
        await asyncio.sleep(0.5)
        await asyncio.to_thread(nats_server.start)
        await wait_for(lambda: at_least(schools, 11), timeout=20)
        async with sessionmaker() as session:
            names = (await session.scalars(select(School.name))).all()
            assert len(names) == len(set(names)) == 11
            assert await session.scalar(select(func.count()).select_from(Dead)) == 0
            assert (
                await session.scalar(
                    select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))
                )
                == 0
            )
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(relay, consumers, return_exceptions=True), 15)


def _publish_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "cpd.outbox" and r.getMessage().startswith("relay: publish of event")
    ]


async def _start_loops(engine: Any, sessionmaker: Any, url: str, durable: str) -> Any:
    stop = asyncio.Event()
    relay = asyncio.create_task(
        run_relay(engine, sessionmaker, url, stop, publish_timeout=ACK_TIMEOUT)
    )
    consumers = asyncio.create_task(
        run_consumers(sessionmaker, url, [subscription(durable=durable)], stop)
    )
    return stop, [relay, consumers]


async def _stop_loops(stop: asyncio.Event, tasks: list[Any], nats_server: Any) -> None:
    if nats_server.proc is None:  # the test failed during its outage
        await asyncio.to_thread(nats_server.start)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)


async def _school_names(sessionmaker: Any) -> list[str]:
    async with sessionmaker() as session:
        return sorted((await session.scalars(select(School.name))).all())


async def _outbox_rows(sessionmaker: Any) -> list[Any]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.seq))).all())


async def _assert_each_event_arrived_once(sessionmaker: Any, url: str, names: list[str]) -> None:
    """Every outbox event is in the stream once, in outbox order, and was handled once."""

    async def settled() -> bool:
        rows = await _outbox_rows(sessionmaker)
        drained = all(r.sent_at is not None for r in rows)
        return drained and await _count_schools(sessionmaker) >= len(names)

    try:
        await wait_for(settled, timeout=20)
    except AssertionError:
        missing = sorted(set(names) - set(await _school_names(sessionmaker)))
        pending = [r.seq for r in await _outbox_rows(sessionmaker) if r.sent_at is None]
        raise AssertionError(
            f"not settled after the outage: never handled {missing}, still pending {pending}"
        ) from None
    rows = await _outbox_rows(sessionmaker)
    nc = await nats.connect(url)
    try:
        messages = await stream_messages(nc.jetstream())
    finally:
        await nc.close()
    assert [m["id"] for m in messages] == [str(r.event_id) for r in rows], (
        "the stream must hold each outbox event exactly once, in outbox order"
    )
    assert await _school_names(sessionmaker) == sorted(names), "each event handled exactly once"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Inbox)) == len(names)
        assert await session.scalar(select(func.count()).select_from(Dead)) == 0


async def _count_schools(sessionmaker: Any) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(School)) or 0)


async def test_outage_longer_than_the_publish_ack_timeout_loses_and_duplicates_nothing(  # type: ignore[no-untyped-def]
    db, nats_server, nats_clean, caplog
) -> None:
    """The broker is away longer than the ack timeout: the client cannot just buffer the
    publish and send it on reconnect; the relay's failure path runs and retries."""
    caplog.set_level(logging.WARNING, logger="cpd.outbox")
    engine, sessionmaker = db
    stop, tasks = await _start_loops(engine, sessionmaker, nats_clean, "ack-timeout-directory")
    try:
        async with sessionmaker() as session, session.begin():
            school_event(session, "Before outage")
        await wait_for(lambda: at_least(lambda: _count_schools(sessionmaker), 1), timeout=10)
        await asyncio.to_thread(nats_server.stop)
        names = ["Before outage"] + [f"During outage {i}" for i in range(10)]
        async with sessionmaker() as session, session.begin():
            for name in names[1:]:
                school_event(session, name)
        await asyncio.sleep(ACK_TIMEOUT * 5)
        await asyncio.to_thread(nats_server.start)
        await _assert_each_event_arrived_once(sessionmaker, nats_clean, names)
        failures = _publish_failures(caplog)
        assert failures, "the outage outlasted the ack timeout: the relay's failure path must run"
        first_in_outage = (await _outbox_rows(sessionmaker))[1]
        assert str(first_in_outage.event_id) in failures[0].getMessage()
        # One attempt per failed publish plus the one that was acked.
        assert first_in_outage.attempts >= 2
    finally:
        await _stop_loops(stop, tasks, nats_server)


async def test_relay_gives_up_batches_while_broker_stays_down_and_delivers_all_once_after(  # type: ignore[no-untyped-def]
    db, nats_server, nats_clean, caplog
) -> None:
    """The broker stays down until the relay has given up its batch (twice): nothing is
    marked sent meanwhile, and after recovery every event arrives once, in order."""
    caplog.set_level(logging.WARNING, logger="cpd.outbox")
    engine, sessionmaker = db
    stop, tasks = await _start_loops(engine, sessionmaker, nats_clean, "gives-up-directory")
    names = ["Before outage"] + [f"Queued {i}" for i in range(12)]
    try:
        async with sessionmaker() as session, session.begin():
            school_event(session, names[0])
        await wait_for(lambda: at_least(lambda: _count_schools(sessionmaker), 1), timeout=10)
        await asyncio.to_thread(nats_server.stop)
        for chunk in (names[1:6], names[6:]):
            async with sessionmaker() as session, session.begin():
                for name in chunk:
                    school_event(session, name)

        async def gave_up(times: int) -> bool:
            return len(_publish_failures(caplog)) >= times

        for times in (1, 2):
            await wait_for(lambda: gave_up(times), timeout=10)  # noqa: B023
            rows = (await _outbox_rows(sessionmaker))[1:]
            assert [r.sent_at for r in rows] == [None] * len(rows), (
                "an event whose publish was not acked must stay pending"
            )
        assert rows[0].attempts >= 2, "each failed publish counts as an attempt"
        assert all(r.attempts == 0 for r in rows[1:]), "the batch stops at the first failure"
        assert "12 left pending" in _publish_failures(caplog)[-1].getMessage()
        await asyncio.to_thread(nats_server.start)
        await _assert_each_event_arrived_once(sessionmaker, nats_clean, names)
    finally:
        await _stop_loops(stop, tasks, nats_server)


async def test_relay_and_consumers_stopped_while_nats_is_unreachable_return(db) -> None:  # type: ignore[no-untyped-def]
    """Shutting a worker down during an outage must not hang on reconnecting."""
    from cpd_common.testing.servers import free_port

    engine, sessionmaker = db
    stop = asyncio.Event()
    relay = asyncio.create_task(
        run_relay(engine, sessionmaker, f"nats://127.0.0.1:{free_port()}", stop)
    )
    consumers = asyncio.create_task(
        run_consumers(sessionmaker, f"nats://127.0.0.1:{free_port()}", [subscription()], stop)
    )
    await asyncio.sleep(0.5)
    assert not relay.done() and not consumers.done(), "they keep retrying while NATS is away"
    stop.set()
    await asyncio.wait_for(asyncio.gather(relay, consumers), 3)
