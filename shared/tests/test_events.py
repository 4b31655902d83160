"""Outbox relay and idempotent consumers against real PostgreSQL and real NATS JetStream."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import uuid
import warnings
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from sqlalchemy import String, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common import events
from cpd_common.db import create_engine, create_sessionmaker, new_metadata
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import (
    DeadLetterMixin,
    InboxMixin,
    Subscription,
    drain,
    ensure_consumer,
    replay_dead_letter,
    run_consumers,
)
from cpd_common.events.outbox import (
    CREATE_NOTIFY_TRIGGER,
    STREAM,
    OutboxMixin,
    ensure_stream,
    publish_pending,
    run_relay,
)
from cpd_common.testing.databases import unique_name
from cpd_common.testing.waiting import wait_for


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"


class Inbox(InboxMixin, Base):
    __tablename__ = "inbox"


class Dead(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"


class School(Base):
    __tablename__ = "schools"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


TRUST = uuid.UUID("00000000-0000-7000-8000-000000000001")


@pytest.fixture
async def db(pg_server) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    name = unique_name("events")
    await pg_server.acreate_database(name)
    engine = create_engine(pg_server.url(name), pool_size=4, max_overflow=4)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        for statement in CREATE_NOTIFY_TRIGGER:
            await conn.exec_driver_sql(statement)
    try:
        yield engine, create_sessionmaker(engine)
    finally:
        await engine.dispose()
        await pg_server.adrop_database(name)


@pytest.fixture
async def js(nats_clean: str) -> AsyncIterator[Any]:
    nc = await nats.connect(nats_clean)
    jetstream = nc.jetstream()
    await ensure_stream(jetstream)
    yield jetstream
    await nc.close()


def school_event(session: Any, name: str) -> CloudEvent:
    school_id = uuid.uuid4()
    return events.add(
        session, catalogue.SchoolUpserted(school_id=school_id, trust_id=TRUST, name=name)
    )


async def upsert_school(session: Any, event: CloudEvent, p: catalogue.SchoolUpserted) -> None:
    await session.execute(
        text("INSERT INTO schools (id, name) VALUES (:id, :name)"),
        {"id": p.school_id, "name": p.name},
    )


def subscription(**kw: Any) -> Subscription:
    return Subscription(
        durable=kw.pop("durable", "test-directory"),
        filter_subject="cpd.directory.>",
        handlers=kw.pop("handlers", {catalogue.SchoolUpserted: upsert_school}),
        **kw,
    )


async def stream_messages(js: Any) -> list[dict[str, Any]]:
    info = await js.stream_info(STREAM)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(STREAM, seq)
        out.append({"id": msg.headers.get("Nats-Msg-Id"), "data": json.loads(msg.data)})
    return out


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


async def test_consumer_handles_each_event_once_and_skips_redelivered_duplicates(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db
    sub = subscription()
    await ensure_consumer(js, sub)
    async with sessionmaker() as session, session.begin():
        event = school_event(session, "Northfield")
    await publish_pending(sessionmaker, js)
    # The same event again under another message id (e.g. replayed from a backup).
    await js.publish(
        "cpd.directory.school.upserted",
        json.dumps(event.model_dump(mode="json")).encode(),
        headers={"Nats-Msg-Id": "replay-" + event.id},
    )
    assert await drain(sessionmaker, js, [sub]) == 2
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(School)) == 1
        assert await session.scalar(select(func.count()).select_from(Inbox)) == 1
    assert await drain(sessionmaker, js, [sub]) == 0


async def test_malformed_event_goes_to_dead_letters_and_consumer_moves_on(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db
    sub = subscription()
    await ensure_consumer(js, sub)
    await js.publish("cpd.directory.school.upserted", b"{not json")
    bad_payload = CloudEvent(
        source="cpd/directory", type=catalogue.SchoolUpserted.event_type, data={"name": "no ids"}
    )
    await js.publish("cpd.directory.school.upserted", bad_payload.model_dump_json().encode())
    async with sessionmaker() as session, session.begin():
        school_event(session, "Good school")
    await publish_pending(sessionmaker, js)
    assert await drain(sessionmaker, js, [sub]) == 3
    async with sessionmaker() as session:
        dead = (await session.scalars(select(Dead).order_by(Dead.created_at))).all()
        assert len(dead) == 2
        assert all(d.error.startswith("malformed event") for d in dead)
        assert dead[1].event_id == bad_payload.id
        assert (await session.scalars(select(School.name))).all() == ["Good school"]
    info = await js.consumer_info(STREAM, sub.durable)
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_failing_handler_is_retried_then_dead_lettered_then_replayed(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db
    calls: list[str] = []
    broken = {"on": True}

    async def flaky(session: Any, event: CloudEvent, p: catalogue.SchoolUpserted) -> None:
        calls.append(event.id)
        if broken["on"]:
            raise RuntimeError("projection table is locked")
        await upsert_school(session, event, p)

    sub = subscription(handlers={catalogue.SchoolUpserted: flaky}, max_deliver=3, backoff=(0.05,))
    await ensure_consumer(js, sub)
    async with sessionmaker() as session, session.begin():
        event = school_event(session, "Retry school")
    await publish_pending(sessionmaker, js)

    async def dead_count() -> int:
        await drain(sessionmaker, js, [sub])
        async with sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(Dead)) or 0)

    await wait_for(dead_count, timeout=10)
    assert calls == [event.id] * 3
    async with sessionmaker() as session:
        dead = (await session.scalars(select(Dead))).one()
        assert dead.deliveries == 3 and "projection table is locked" in dead.error
        assert dead.event_id == event.id and dead.trust_id == TRUST
        assert await session.scalar(select(func.count()).select_from(School)) == 0
    broken["on"] = False
    async with sessionmaker() as session, session.begin():
        assert await replay_dead_letter(session, sub, dead.body) is True
    async with sessionmaker() as session, session.begin():
        assert await replay_dead_letter(session, sub, dead.body) is False
    async with sessionmaker() as session:
        assert (await session.scalars(select(School.name))).all() == ["Retry school"]


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

        await wait_for(lambda: _at_least(schools, 1), timeout=10)
        await asyncio.to_thread(nats_server.stop)
        async with sessionmaker() as session, session.begin():
            for i in range(10):
                school_event(session, f"During outage {i}")
        await asyncio.sleep(0.5)
        await asyncio.to_thread(nats_server.start)
        await wait_for(lambda: _at_least(schools, 11), timeout=20)
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


async def _at_least(probe: Any, n: int) -> bool:
    return bool(await probe() >= n)


# A short publish-ack timeout for the outage tests, so an outage "longer than the timeout"
# stays short (the relay's default is PUBLISH_TIMEOUT).
ACK_TIMEOUT = 0.3


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
        await wait_for(lambda: _at_least(lambda: _count_schools(sessionmaker), 1), timeout=10)
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
        await wait_for(lambda: _at_least(lambda: _count_schools(sessionmaker), 1), timeout=10)
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
        await wait_for(lambda: _at_least(lambda: _sent_count(sessionmaker), 1), timeout=15)
        async with sessionmaker() as session, session.begin():
            school_event(session, "Sent on NOTIFY")
        await wait_for(lambda: _at_least(lambda: _sent_count(sessionmaker), 2), timeout=10)
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
    await wait_for(lambda: _at_least(lambda: _sent_count(sessionmaker), 1), timeout=15)
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


def test_redelivery_waits_longer_after_each_failure_up_to_the_last_step() -> None:
    sub = subscription(backoff=(0.2, 1.0, 2.0, 5.0))
    assert [sub.delay_after(n) for n in (1, 2, 3, 4, 5, 9)] == [0.2, 1.0, 2.0, 5.0, 5.0, 5.0]
    assert subscription(backoff=()).delay_after(3) == 0.0


async def test_the_durable_consumer_acks_explicitly_and_redelivers_past_our_last_try(
    db, js
) -> None:  # type: ignore[no-untyped-def]
    sub = subscription(durable="config-check", max_deliver=4)
    await ensure_consumer(js, sub)
    config = (await js.consumer_info(STREAM, "config-check")).config
    assert config.filter_subject == "cpd.directory.>"
    assert config.ack_policy == "explicit"
    assert config.deliver_policy == "all"
    # JetStream must redeliver beyond our own bound, so the last try reaches the dead letters.
    assert config.max_deliver == 7


async def test_events_without_a_handler_are_acked_and_left_alone(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db
    sub = subscription(handlers={})
    await ensure_consumer(js, sub)
    async with sessionmaker() as session, session.begin():
        school_event(session, "Nobody listens")
    await publish_pending(sessionmaker, js)
    assert await drain(sessionmaker, js, [sub]) == 1
    info = await js.consumer_info(STREAM, sub.durable)
    assert (info.num_pending, info.num_ack_pending) == (0, 0), "acked, not redelivered"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Inbox)) == 0
        assert await session.scalar(select(func.count()).select_from(Dead)) == 0
        assert await session.scalar(select(func.count()).select_from(School)) == 0
    body = json.dumps(
        CloudEvent(
            source="cpd/directory", type="cpd.directory.school.upserted.v1", data={}
        ).model_dump(mode="json")
    )
    async with sessionmaker() as session, session.begin():
        assert await replay_dead_letter(session, sub, body) is False


async def test_a_dead_letter_with_a_made_up_trust_keeps_no_trust(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db
    sub = subscription()
    await ensure_consumer(js, sub)
    bad = CloudEvent(
        source="cpd/directory",
        type=catalogue.SchoolUpserted.event_type,
        trustid="not-a-trust-id",
        data={"name": "no ids"},
    )
    await js.publish("cpd.directory.school.upserted", bad.model_dump_json().encode())
    assert await drain(sessionmaker, js, [sub]) == 1
    async with sessionmaker() as session:
        dead = (await session.scalars(select(Dead))).one()
    assert (dead.event_id, dead.trust_id, dead.deliveries) == (bad.id, None, 1)
    assert dead.subject == "cpd.directory.school.upserted"
    assert dead.error.startswith("malformed event")


async def test_ensure_stream_brings_an_existing_stream_up_to_date(nats_clean) -> None:  # type: ignore[no-untyped-def]
    """A stream left with another configuration (an older release) is updated, not an
    error: the duplicate window that Nats-Msg-Id dedup relies on comes back to 2 minutes."""
    from nats.js.api import StorageType, StreamConfig

    nc = await nats.connect(nats_clean)
    try:
        js = nc.jetstream()
        await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=["cpd.>"],
                storage=StorageType.FILE,
                duplicate_window=5.0,
            )
        )
        await ensure_stream(js)
        config = (await js.stream_info(STREAM)).config
        assert config.duplicate_window == 120.0
        assert config.storage == StorageType.FILE
    finally:
        await nc.close()


async def test_waiting_for_the_first_of_two_events_leaves_no_waiter_behind() -> None:
    from cpd_common.events.outbox import _first

    woken, other = asyncio.Event(), asyncio.Event()
    before = len(asyncio.all_tasks())
    woken.set()
    await asyncio.wait_for(_first(woken, other), 1)
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before, "the other waiter must be cancelled"


async def test_consumers_keep_retrying_while_their_database_is_away(  # type: ignore[no-untyped-def]
    db, js, pg_server, nats_clean, caplog
) -> None:
    """An error outside any one event (here: the service's database is unreachable) is
    logged and retried with backoff; the consumer loop does not die."""
    caplog.set_level(logging.WARNING, logger="cpd.inbox")
    _, sessionmaker = db
    sub = subscription(durable="db-away", max_deliver=2, backoff=(0.05,))
    await ensure_consumer(js, sub)
    async with sessionmaker() as session, session.begin():
        school_event(session, "Waits for the database")
    await publish_pending(sessionmaker, js)
    away = create_engine(pg_server.url(unique_name("missing")), pool_size=1, max_overflow=0)
    stop = asyncio.Event()
    consumers = asyncio.create_task(
        run_consumers(create_sessionmaker(away), nats_clean, [sub], stop)
    )

    def retries() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("consumer db-away:")]

    try:
        await wait_for(lambda: _truthy(len(retries()) >= 1), timeout=20)
        assert not consumers.done(), "the consumer loop must survive the error"
    finally:
        stop.set()
        await asyncio.wait_for(consumers, 15)
        await away.dispose()


async def _truthy(value: bool) -> bool:
    return value


async def test_one_failing_event_in_a_batch_does_not_hold_back_the_others(db, js) -> None:  # type: ignore[no-untyped-def]
    _, sessionmaker = db

    async def picky(session: Any, event: CloudEvent, p: catalogue.SchoolUpserted) -> None:
        if p.name == "Poison":
            raise RuntimeError("cannot project this school")
        await upsert_school(session, event, p)

    sub = subscription(handlers={catalogue.SchoolUpserted: picky}, max_deliver=2, backoff=(0.05,))
    await ensure_consumer(js, sub)
    async with sessionmaker() as session, session.begin():
        school_event(session, "First")
        school_event(session, "Poison")
        school_event(session, "Third")
    await publish_pending(sessionmaker, js)

    async def settled() -> bool:
        await drain(sessionmaker, js, [sub])
        async with sessionmaker() as session:
            return bool(await session.scalar(select(func.count()).select_from(Dead)))

    await wait_for(settled, timeout=10)
    async with sessionmaker() as session:
        assert sorted((await session.scalars(select(School.name))).all()) == ["First", "Third"]
        assert await session.scalar(select(func.count()).select_from(Inbox)) == 2
        dead = (await session.scalars(select(Dead))).one()
        assert "cannot project this school" in dead.error


async def test_consumer_setup_is_retried_until_the_stream_can_be_created(  # type: ignore[no-untyped-def]
    db, nats_clean, caplog
) -> None:
    """At start-up the CPD stream cannot be created (another stream already takes some of
    its subjects, so the server refuses it): the consumer loop logs, waits and tries again,
    and once the way is clear it creates the stream and the durable consumer and handles
    the events published after."""
    caplog.set_level(logging.WARNING, logger="cpd.inbox")
    _, sessionmaker = db
    nc = await nats.connect(nats_clean)
    jetstream = nc.jetstream()
    await jetstream.add_stream(name="BLOCKER", subjects=["cpd.directory.>"])
    sub = subscription(durable="late-setup")
    stop = asyncio.Event()
    consumers = asyncio.create_task(run_consumers(sessionmaker, nats_clean, [sub], stop))

    def setup_failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("consumer setup:")]

    try:
        await wait_for(lambda: _truthy(len(setup_failures()) >= 2), timeout=20)
        assert not consumers.done(), "a failed setup is retried, not the end of the loop"
        await jetstream.delete_stream("BLOCKER")

        async def consumer_ready() -> bool:
            try:
                await jetstream.consumer_info(STREAM, "late-setup")
            except Exception:
                return False
            return True

        await wait_for(consumer_ready, timeout=20)
        async with sessionmaker() as session, session.begin():
            school_event(session, "Set up late")
        await publish_pending(sessionmaker, jetstream)

        async def handled() -> bool:
            async with sessionmaker() as session:
                return await session.scalar(select(func.count()).select_from(School)) == 1

        await wait_for(handled, timeout=20)
    finally:
        stop.set()
        await asyncio.wait_for(consumers, 15)
        await nc.close()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Inbox)) == 1
