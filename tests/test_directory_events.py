"""The event path end to end: directory changes made through the gateway reach every service's
projection, exactly once, even when NATS is down while they are made."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import nats
from sqlalchemy import text

from cpd_common import worker
from cpd_common.testing.waiting import wait_for
from cpd_local.stack import Stack

DOMAIN_SERVICES = ("audit", "lessonstudy", "evaluation")
ADMIN = ("admin@oakridge.example", "oakridge-admin-2026")


async def _school_id(stack: Stack, headers: dict[str, str]) -> str:
    resp = await stack.gateway.get("/v1/schools", headers=headers)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["items"][0]["id"])


async def _create_person(stack: Stack, headers: dict[str, str], school_id: str, n: int) -> str:
    resp = await stack.gateway.post(
        "/v1/people",
        headers=headers,
        json={
            "name": f"Test Person {n}",
            "email": f"person{n}-{uuid.uuid4().hex[:6]}@northfield.example",
            "school_ids": [school_id],
            "staff_group": "teacher",
            "department": "Science",
            "career_stage": "ect",
            "roles": ["staff"],
        },
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def _projection(stack: Stack, service: str, person_id: str) -> dict | None:
    async with stack.session(service) as session:
        row = (
            (
                await session.execute(
                    text(
                        "SELECT name, staff_group, department, school_ids FROM people WHERE id = :id"
                    ),
                    {"id": uuid.UUID(person_id)},
                )
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None


async def _count(stack: Stack, service: str, sql: str) -> int:
    async with stack.session(service) as session:
        return int((await session.execute(text(sql))).scalar_one())


async def test_person_created_through_gateway_reaches_every_projection(demo: Stack) -> None:
    headers = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, headers)
    person_id = await _create_person(demo, headers, school_id, 1)
    await demo.settle()
    for service in DOMAIN_SERVICES:
        row = await _projection(demo, service, person_id)
        assert row is not None, f"{service} did not receive the person"
        assert row["name"] == "Test Person 1"
        assert row["staff_group"] == "teacher"
        assert [str(s) for s in row["school_ids"]] == [school_id]

    # A change is projected too, and erasure removes the person everywhere.
    got = await demo.gateway.get(f"/v1/people/{person_id}", headers=headers)
    patched = await demo.gateway.patch(
        f"/v1/people/{person_id}",
        headers={**headers, "If-Match": got.headers["etag"]},
        json={"department": "Mathematics"},
    )
    assert patched.status_code == 200, patched.text
    await demo.settle()
    for service in DOMAIN_SERVICES:
        row = await _projection(demo, service, person_id)
        assert row is not None and row["department"] == "Mathematics"

    erased = await demo.gateway.post(f"/v1/people/{person_id}/erase", headers=headers)
    assert erased.status_code == 202, erased.text
    await demo.settle()
    for service in DOMAIN_SERVICES:
        assert await _projection(demo, service, person_id) is None


async def _run_workers(stack: Stack) -> tuple[asyncio.Event, list[asyncio.Task[None]]]:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(worker.run(svc.settings, list(svc.spec.subscriptions()), stop=stop))
        for svc in stack.services.values()
    ]
    return stop, tasks


async def _stop_workers(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    stop.set()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)


async def test_real_worker_loops_deliver_directory_events(demo: Stack) -> None:
    headers = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, headers)
    stop, tasks = await _run_workers(demo)
    try:
        person_id = await _create_person(demo, headers, school_id, 2)

        async def everywhere() -> bool:
            rows = [await _projection(demo, s, person_id) for s in DOMAIN_SERVICES]
            return all(rows)

        await wait_for(everywhere, timeout=15)
    finally:
        await _stop_workers(stop, tasks)


async def test_nats_outage_loses_nothing_and_duplicates_nothing(demo: Stack, nats_server) -> None:
    headers = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, headers)
    # The demo's own seeding events were sent and handled before this test (its databases are
    # copies of a seeded template, the stream is new): count only what this test writes.
    events_before = await _count(demo, "gateway", "SELECT count(*) FROM outbox")
    handled_before = {
        service: await _count(demo, service, "SELECT count(*) FROM inbox")
        for service in DOMAIN_SERVICES
    }
    stop, tasks = await _run_workers(demo)
    try:
        nats_server.stop()
        people = [await _create_person(demo, headers, school_id, 10 + n) for n in range(5)]
        await asyncio.sleep(0.5)
        nats_server.start()

        async def all_delivered() -> bool:
            for service in DOMAIN_SERVICES:
                for person_id in people:
                    if await _projection(demo, service, person_id) is None:
                        return False
            return True

        await wait_for(all_delivered, timeout=30)

        async def outbox_empty() -> bool:
            pending = await _count(
                demo, "gateway", "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
            )
            return pending == 0

        await wait_for(outbox_empty, timeout=10)
    finally:
        await _stop_workers(stop, tasks)

    # Exactly once: the stream holds each outbox event once (Nats-Msg-Id dedup), and every
    # consumer recorded each event id once in its inbox.
    events = await _count(demo, "gateway", "SELECT count(*) FROM outbox") - events_before
    assert events >= len(people)
    nc = await nats.connect(demo.nats_url)
    try:
        info = await nc.jetstream().stream_info("CPD")
        assert info.state.messages == events
    finally:
        await nc.close()
    for service in DOMAIN_SERVICES:
        handled = await _count(demo, service, "SELECT count(*) FROM inbox")
        distinct = await _count(demo, service, "SELECT count(DISTINCT event_id) FROM inbox")
        assert handled == distinct, service
        assert handled - handled_before[service] == events, service
        assert await _count(demo, service, "SELECT count(*) FROM dead_letters") == 0


async def test_worker_housekeeping_prunes_sent_events_and_expired_idempotency_keys(
    stack: Stack,
) -> None:
    """The worker forgets, at start and hourly, outbox rows sent more than a day ago and
    idempotency keys past their 24 hours; unsent events and live keys stay."""
    for service in ("gateway", "audit"):
        async with stack.session(service) as session, session.begin():
            for label, sent_at in (
                ("old-sent", "now() - interval '25 hours'"),
                ("new-sent", "now() - interval '1 hour'"),
                ("old-pending", "NULL"),
            ):
                await session.execute(
                    text(
                        "INSERT INTO outbox (event_id, type, subject, envelope, created_at, "
                        f"sent_at) VALUES (:id, :label, 'cpd.test', '{{}}', "
                        f"now() - interval '2 days', {sent_at})"
                    ),
                    {"id": uuid.uuid4(), "label": label},
                )
            for key, age in (("expired", "25 hours"), ("live", "1 hour")):
                await session.execute(
                    text(
                        "INSERT INTO idempotency_keys (principal, key, method, path, "
                        "request_hash, status_code, headers, body, created_at) VALUES "
                        "('person:x', :key, 'POST', '/v1/x', 'h', 201, '{}', '', "
                        f"now() - interval '{age}')"
                    ),
                    {"key": key},
                )
    stop, tasks = await _run_workers(stack)
    try:

        async def pruned() -> bool:
            for service in ("gateway", "audit"):
                if await _count(stack, service, "SELECT count(*) FROM idempotency_keys") != 1:
                    return False
            return True

        await wait_for(pruned, timeout=15)
    finally:
        await _stop_workers(stop, tasks)
    for service in ("gateway", "audit"):
        async with stack.session(service) as session:
            outbox = (await session.execute(text("SELECT type FROM outbox"))).scalars().all()
            keys = (await session.execute(text("SELECT key FROM idempotency_keys"))).scalars()
            assert sorted(outbox) == ["new-sent", "old-pending"], service
            assert list(keys) == ["live"], service
