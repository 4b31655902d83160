"""The outbox relay against real PostgreSQL and real NATS JetStream: order and message ids, no
duplicate after a crash between publish and mark-sent, one relay at a time, woken by NOTIFY,
and no connection left behind when stopped."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import pytest
from sqlalchemy import func, select, text

from cpd_common.events import catalogue
from cpd_common.events.outbox import STREAM, publish_pending, run_relay
from cpd_common.testing.waiting import wait_for

from .events_helpers import TRUST, Outbox, at_least, school_event, stream_messages


async def test_outbox_publishes_in_order_with_event_id_as_msg_id(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db
    async with sessionmaker() as session, session.begin():
        sent = [school_event(session, f"School {i}") for i in range(5)]
    assert await publish_pending(sessionmaker, js) == 5
    assert await publish_pending(sessionmaker, js) == 0
    messages = await stream_messages(js)
    assert [m["id"] for m in messages] == [e.id for e in sent]
    assert [m["data"]["data"]["name"] for m in messages] == [f"School {i}" for i in range(5)]
    first = messages[0]["data"]
    assert first["specversion"] == "1.0"
    assert first["source"] == "cpd/directory"
    assert first["type"] == catalogue.SchoolUpserted.event_type
    assert first["trustid"] == str(TRUST)
    async with sessionmaker() as session:
        pending = await session.scalar(select(func.count()).where(Outbox.sent_at.is_(None)))
    assert pending == 0


async def test_relay_crash_between_publish_and_mark_sent_does_not_duplicate(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db
    async with sessionmaker() as session, session.begin():
        for i in range(3):
            school_event(session, f"S{i}")
    await publish_pending(sessionmaker, js)
    # The relay died before marking them sent: they are published again.
    async with sessionmaker() as session, session.begin():
        await session.execute(text("UPDATE outbox SET sent_at = NULL"))
    assert await publish_pending(sessionmaker, js) == 3
    info = await js.stream_info(STREAM)
    assert info.state.messages == 3  # JetStream dropped the duplicates by Nats-Msg-Id


async def _pending_count(sessionmaker: Any) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))
            )
            or 0
        )


async def test_a_second_relay_publishes_nothing_while_the_first_holds_the_outbox(db, js) -> None:  # type: ignore[no-untyped-def]
    """One relay at a time per database (the order of events depends on it): while another
    relay's transaction holds the lock, publish_pending sends nothing and marks nothing."""
    engine, sessionmaker = db
    async with sessionmaker() as session, session.begin():
        for i in range(3):
            school_event(session, f"Locked {i}")
    async with engine.connect() as other:
        await other.execute(text("BEGIN"))
        await other.execute(text("SELECT pg_advisory_xact_lock(hashtext('cpd_outbox_relay'))"))
        assert await publish_pending(sessionmaker, js) == 0
        assert (await js.stream_info(STREAM)).state.messages == 0, "nothing may be published"
        assert await _pending_count(sessionmaker) == 3, "nothing may be marked sent"
        await other.execute(text("ROLLBACK"))
    assert await publish_pending(sessionmaker, js) == 3


async def test_the_relay_wakes_on_notify_without_waiting_for_its_poll(db, nats_clean) -> None:  # type: ignore[no-untyped-def]
    """An event committed while the relay sleeps is sent at once (LISTEN/NOTIFY), not at the
    next poll (a minute away here)."""
    engine, sessionmaker = db
    stop = asyncio.Event()
    async with sessionmaker() as session, session.begin():
        school_event(session, "Sent on the first pass")
    relay = asyncio.create_task(run_relay(engine, sessionmaker, nats_clean, stop, poll_interval=60))
    try:
        await wait_for(lambda: at_least(lambda: _sent_count(sessionmaker), 1), timeout=15)
        async with sessionmaker() as session, session.begin():
            school_event(session, "Sent on NOTIFY")
        await wait_for(lambda: at_least(lambda: _sent_count(sessionmaker), 2), timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(relay, 15)


async def _sent_count(sessionmaker: Any) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_not(None))
            )
            or 0
        )


async def _nats_connections(nats_server: Any) -> int:
    import httpx

    async with httpx.AsyncClient() as client:
        resp = await client.get(f"http://127.0.0.1:{nats_server.monitor_port}/connz")
    return int(resp.json()["num_connections"])


async def test_a_stopped_relay_leaves_no_connection_open(db, nats_server, nats_clean) -> None:  # type: ignore[no-untyped-def]
    engine, sessionmaker = db
    before = await _nats_connections(nats_server)
    stop = asyncio.Event()
    async with sessionmaker() as session, session.begin():
        school_event(session, "Before stop")
    relay = asyncio.create_task(run_relay(engine, sessionmaker, nats_clean, stop))
    await wait_for(lambda: at_least(lambda: _sent_count(sessionmaker), 1), timeout=15)
    assert await _nats_connections(nats_server) == before + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stop.set()
        await asyncio.wait_for(relay, 15)
        del relay
        gc.collect()
    assert engine.pool.checkedout() == 0, "the relay's LISTEN connection must be given back"
    leaked = [w for w in caught if "non-checked-in connection" in str(w.message)]
    assert not leaked, "the relay must close its LISTEN connection, not leave it to the GC"

    async def closed() -> bool:
        return await _nats_connections(nats_server) == before

    await wait_for(closed, timeout=5)


async def test_batches_keep_outbox_order_and_each_marks_its_rows_sent(db, js) -> None:  # type: ignore[no-untyped-def]
    """Publishes are pipelined within a batch (acks awaited after all are sent): the stream
    still holds the outbox's order across batches, and each batch is marked sent."""
    _, sessionmaker = db
    async with sessionmaker() as session, session.begin():
        sent = [school_event(session, f"Batched {i}") for i in range(130)]
    counts = [await publish_pending(sessionmaker, js, limit=50) for _ in range(4)]
    assert counts == [50, 50, 30, 0]
    assert [m["id"] for m in await stream_messages(js)] == [e.id for e in sent]
    assert await _pending_count(sessionmaker) == 0


async def test_a_refused_publish_stops_the_batch_and_nothing_after_it_is_marked(db, js) -> None:  # type: ignore[no-untyped-def]
    """The broker refuses one event of a batch (no stream takes its subject) while the ones
    after it are stored: only the rows before it are marked sent, it counts an attempt, the
    rest stay pending; its retry goes alone, so the rows behind it are not sent again while
    it keeps failing; once it can be published, every event is in the stream once."""
    _, sessionmaker = db
    async with sessionmaker() as session, session.begin():
        first, refused, after = (school_event(session, f"Gap {i}") for i in range(3))
        await session.flush()
        await session.execute(
            text("UPDATE outbox SET subject = 'elsewhere.refused' WHERE event_id = :id"),
            {"id": refused.id},
        )
    seen: list[str] = []

    async def count(msg: Any) -> None:
        seen.append(msg.headers["Nats-Msg-Id"])

    sub = await js._nc.subscribe("cpd.directory.>", cb=count)  # every publish, dupes included
    try:
        for attempt in (1, 2):
            with pytest.raises(Exception):  # noqa: B017 (the client's no-responders error)
                await publish_pending(sessionmaker, js)
            await js._nc.flush()
            assert seen == [first.id, after.id], f"attempt {attempt} sent the rows behind"
            async with sessionmaker() as session:
                rows = {str(r.event_id): r for r in (await session.scalars(select(Outbox))).all()}
            assert rows[first.id].sent_at is not None
            assert rows[refused.id].sent_at is None and rows[refused.id].attempts == attempt
            assert rows[after.id].sent_at is None and rows[after.id].attempts == 0
        async with sessionmaker() as session, session.begin():
            await session.execute(
                text("UPDATE outbox SET subject = 'cpd.directory.school.upserted'")
            )
        assert await publish_pending(sessionmaker, js) == 2
    finally:
        await sub.unsubscribe()
    assert sorted(m["id"] for m in await stream_messages(js)) == sorted(
        [first.id, refused.id, after.id]
    )


async def test_a_batch_goes_as_one_atomic_publish_acked_once(db, js) -> None:  # type: ignore[no-untyped-def]
    """Several pending rows are one JetStream atomic batch (one ack, one fsync at its commit
    on nats-server >= 2.15), each message still carrying its event id as Nats-Msg-Id."""
    _, sessionmaker = db
    async with sessionmaker() as session, session.begin():
        sent = [school_event(session, f"Atomic {i}") for i in range(4)]
    seen: list[dict[str, str]] = []

    async def record(msg: Any) -> None:
        seen.append(dict(msg.headers or {}))

    sub = await js._nc.subscribe("cpd.directory.>", cb=record)
    try:
        assert await publish_pending(sessionmaker, js) == 4
        await js._nc.flush()
    finally:
        await sub.unsubscribe()
    assert [h["Nats-Msg-Id"] for h in seen] == [e.id for e in sent]
    assert len({h["Nats-Batch-Id"] for h in seen}) == 1
    assert [h["Nats-Batch-Sequence"] for h in seen] == ["1", "2", "3", "4"]
    assert [h.get("Nats-Batch-Commit") for h in seen] == [None, None, None, "1"]
    assert [m["id"] for m in await stream_messages(js)] == [e.id for e in sent]
    assert await _pending_count(sessionmaker) == 0


async def test_a_batch_with_an_event_already_in_the_stream_is_sent_one_by_one(db, js) -> None:  # type: ignore[no-untyped-def]
    """The broker refuses a whole atomic batch that holds an event id it already has (a relay
    that died between publish and mark-sent): the relay then publishes the batch's rows one
    by one, the duplicate is dropped, and the new events are stored once, in order."""
    _, sessionmaker = db
    async with sessionmaker() as session, session.begin():
        first = [school_event(session, f"Before {i}") for i in range(2)]
    assert await publish_pending(sessionmaker, js) == 2
    async with sessionmaker() as session, session.begin():
        later = [school_event(session, f"After {i}") for i in range(3)]
        await session.flush()
        await session.execute(
            text("UPDATE outbox SET sent_at = NULL WHERE event_id = :id"), {"id": first[1].id}
        )
    assert await publish_pending(sessionmaker, js) == 4
    assert [m["id"] for m in await stream_messages(js)] == [e.id for e in first + later]
    assert await _pending_count(sessionmaker) == 0
