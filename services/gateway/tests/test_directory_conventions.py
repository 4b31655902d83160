"""The directory's lists, retries and events: pagination walks every person once,
Idempotency-Key replays the first response, and a change writes one event to the outbox
(a refused one none)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, RIVERSIDE, RIVERSIDE_HIGH
from cpd_local.stack import Stack

from .directory_helpers import (
    ADMIN,
    OAKRIDGE_PEOPLE,
    RIVERSIDE_ADMIN,
    TEACHER,
    all_pages,
    assert_created,
    assert_problem,
    error_locs,
    new_person,
    outbox_events,
)

# ---- pagination ------------------------------------------------------------------------------


async def test_people_pagination_walks_every_page_once(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    pages = await all_pages(seeded, admin, "/v1/people", limit=5)
    ids = [p["id"] for page in pages for p in page]
    assert all(len(page) == 5 for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= 5
    assert len(pages) == -(-len(OAKRIDGE_PEOPLE) // 5)
    assert len(ids) == len(set(ids)), "a person appeared on two pages"
    assert set(ids) == {str(p.id) for p in OAKRIDGE_PEOPLE}
    assert ids == sorted(ids, key=uuid.UUID), "stable order by id"

    default = (await seeded.gateway.get("/v1/people", headers=admin)).json()
    assert len(default["items"]) == len(OAKRIDGE_PEOPLE) and default["next_cursor"] is None
    maximum = await seeded.gateway.get("/v1/people", headers=admin, params={"limit": 200})
    assert maximum.status_code == 200

    # Pages of a filtered list are filtered too.
    teachers = await all_pages(seeded, admin, "/v1/people", limit=4, staff_group="teacher")
    got = [p for page in teachers for p in page]
    assert {p["id"] for p in got} == {
        str(p.id) for p in OAKRIDGE_PEOPLE if p.staff_group == "teacher"
    }

    for params, loc in (
        ({"limit": 201}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
    ):
        resp = await seeded.gateway.get("/v1/people", headers=admin, params=params)
        assert error_locs(assert_problem(resp, 422)) == [loc], params


# ---- Idempotency-Key -------------------------------------------------------------------------


async def _count_people_with_email(stack: Stack, email: str) -> int:
    async with stack.session("gateway") as session:
        return int(
            await session.scalar(
                text("SELECT count(*) FROM people WHERE lower(email) = lower(:e)"), {"e": email}
            )
        )


async def test_idempotency_key_replays_the_first_response(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    body = new_person()
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    first = await seeded.gateway.post("/v1/people", headers={**admin, **key}, json=body)
    person = assert_created(first, "/v1/people")
    assert "idempotent-replayed" not in first.headers

    replay = await seeded.gateway.post("/v1/people", headers={**admin, **key}, json=body)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == person
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["etag"] == first.headers["etag"]
    assert await _count_people_with_email(seeded, body["email"]) == 1
    assert len(await outbox_events(seeded, catalogue.PersonUpserted.event_type, person["id"])) == 1

    changed = await seeded.gateway.post(
        "/v1/people", headers={**admin, **key}, json={**body, "name": "Someone Else"}
    )
    assert "Idempotency-Key" in assert_problem(changed, 409)["detail"]
    assert await _count_people_with_email(seeded, body["email"]) == 1

    # Keys belong to the caller: another tenant's admin using the same key creates its own.
    riverside = await seeded.auth(*RIVERSIDE_ADMIN)
    theirs = new_person(school_ids=[str(RIVERSIDE_HIGH)])
    other = await seeded.gateway.post("/v1/people", headers={**riverside, **key}, json=theirs)
    assert assert_created(other, "/v1/people")["trust_id"] == str(RIVERSIDE)
    assert "idempotent-replayed" not in other.headers

    # A failed request stores nothing under its key: fixing the body and retrying works.
    retry_key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    bad = await seeded.gateway.post(
        "/v1/people", headers={**admin, **retry_key}, json=new_person(email=TEACHER[0])
    )
    assert_problem(bad, 409)
    fixed = await seeded.gateway.post(
        "/v1/people",
        headers={**admin, **retry_key},
        json=body | {"email": f"fixed-{uuid.uuid4().hex[:6]}@northfield.example"},
    )
    assert_created(fixed, "/v1/people")

    too_long = await seeded.gateway.post(
        "/v1/people", headers={**admin, "Idempotency-Key": "k" * 201}, json=new_person()
    )
    assert_problem(too_long, 422)


# ---- events ----------------------------------------------------------------------------------


async def test_creating_a_person_writes_one_upserted_event_to_the_outbox(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    person = assert_created(
        await seeded.gateway.post("/v1/people", headers=admin, json=new_person()), "/v1/people"
    )
    events = await outbox_events(seeded, catalogue.PersonUpserted.event_type, person["id"])
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "cpd.directory.person.upserted.v1"
    assert event["specversion"] == "1.0"
    assert event["source"] == "cpd/directory"
    assert event["trustid"] == str(OAKRIDGE)
    data = event["data"]
    assert data["person_id"] == person["id"]
    assert data["school_ids"] == [str(NORTHFIELD)]
    assert data["staff_group"] == "teacher" and data["department"] == "KS2"
    assert data["roles"] == ["staff"] and data["active"] is True
    async with seeded.session("gateway") as session:
        row = (
            await session.execute(
                text("SELECT subject, sent_at FROM outbox WHERE event_id = :id"),
                {"id": uuid.UUID(event["id"])},
            )
        ).one()
    assert row.subject == "cpd.directory.person.upserted"
    assert row.sent_at is None, "the API never publishes; the relay does"

    # A refused create writes no event.
    before = await _outbox_count(seeded)
    await seeded.gateway.post("/v1/people", headers=admin, json=new_person(email=TEACHER[0]))
    assert await _outbox_count(seeded) == before


async def _outbox_count(stack: Stack) -> int:
    async with stack.session("gateway") as session:
        return int(await session.scalar(text("SELECT count(*) FROM outbox")))
