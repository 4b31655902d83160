"""Idempotent consumers against real PostgreSQL and real NATS JetStream: each event handled
once, malformed ones and repeated failures dead-lettered (and replayable), explicit acks and
redelivery back-off, and set-up and database outages retried."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import nats
from sqlalchemy import func, select

from cpd_common.db import create_engine, create_sessionmaker
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import drain, ensure_consumer, replay_dead_letter, run_consumers
from cpd_common.events.outbox import STREAM, ensure_stream, publish_pending
from cpd_common.testing.databases import unique_name
from cpd_common.testing.waiting import wait_for

from .events_helpers import TRUST, Dead, Inbox, School, school_event, subscription, upsert_school


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


async def test_events_a_subscription_rules_out_are_acked_without_handler_or_inbox_row(
    db, js
) -> None:  # type: ignore[no-untyped-def]
    """``relevant`` sees each fetched batch once: the events it rules out are acked with no
    handler run and no inbox row; the others are handled once each, as usual; when it fails,
    every event is handled."""
    _, sessionmaker = db
    seen: list[int] = []

    async def only_kept(session: Any, events: Any) -> set[str]:
        seen.append(len(events))
        return {e.id for e in events if e.data["name"].startswith("Keep")}

    sub = subscription(relevant=only_kept)
    await ensure_consumer(js, sub)
    async with sessionmaker() as session, session.begin():
        for name in ("Keep 1", "Skip 1", "Skip 2", "Keep 2", "Skip 3"):
            school_event(session, name)
    await publish_pending(sessionmaker, js)
    assert await drain(sessionmaker, js, [sub]) == 5
    assert sum(seen) == 5
    async with sessionmaker() as session:
        assert sorted((await session.scalars(select(School.name))).all()) == ["Keep 1", "Keep 2"]
        assert await session.scalar(select(func.count()).select_from(Inbox)) == 2
    info = await js.consumer_info(STREAM, sub.durable)
    assert info.num_ack_pending == 0 and info.num_pending == 0

    async def broken(session: Any, events: Any) -> set[str]:
        raise RuntimeError("no answer")

    handled: list[str] = []

    async def count(session: Any, event: CloudEvent, p: catalogue.SchoolUpserted) -> None:
        handled.append(p.name)

    failing = subscription(
        durable="test-directory-2", relevant=broken, handlers={catalogue.SchoolUpserted: count}
    )
    await ensure_consumer(js, failing)
    assert await drain(sessionmaker, js, [failing]) == 5
    assert len(handled) == 5
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Inbox)) == 2 + 5
