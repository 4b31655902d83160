"""Dead letters are visible and replayable through the gateway, per service and per trust."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from cpd_common.db import uuid7
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_demo.trust import NORTHFIELD, OAKRIDGE
from cpd_local.stack import Stack

ADMIN = ("admin@oakridge.example", "oakridge-admin-2026")
OTHER_ADMIN = ("admin@riverside.example", "riverside-admin-2026")


async def test_malformed_event_is_listed_and_cannot_be_replayed(demo: Stack) -> None:
    bad = CloudEvent(
        source="cpd/directory",
        type=catalogue.PersonUpserted.event_type,
        trustid=str(OAKRIDGE),
        data={"name": "no person id"},
    )
    js = await demo.js()
    await js.publish("cpd.directory.person.upserted", bad.model_dump_json().encode())
    await demo.settle()
    headers = await demo.auth(*ADMIN)
    resp = await demo.gateway.get("/v1/admin/audit/dead-letters", headers=headers)
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert [i["event_id"] for i in items] == [bad.id]
    assert items[0]["error"].startswith("malformed event")
    replay = await demo.gateway.post(
        f"/v1/admin/audit/dead-letters/{items[0]['id']}/replay", headers=headers
    )
    assert replay.status_code == 409
    assert replay.headers["content-type"].startswith("application/problem+json")
    # Another trust sees none of it; staff may not look at all.
    other = await demo.auth(*OTHER_ADMIN)
    resp = await demo.gateway.get("/v1/admin/audit/dead-letters", headers=other)
    assert resp.status_code == 200 and resp.json()["items"] == []
    teacher = await demo.auth("teacher@northfield.example", "northfield-teacher-2026")
    resp = await demo.gateway.get("/v1/admin/audit/dead-letters", headers=teacher)
    assert resp.status_code == 403


async def test_replay_runs_the_handler_once(demo: Stack) -> None:
    person_id = uuid.uuid4()
    event = CloudEvent(
        source="cpd/directory",
        type=catalogue.PersonUpserted.event_type,
        subject=str(person_id),
        trustid=str(OAKRIDGE),
        data=catalogue.PersonUpserted(
            person_id=person_id, trust_id=OAKRIDGE, school_ids=[NORTHFIELD], name="Late Arrival"
        ).model_dump(mode="json"),
    )
    dead_id = uuid7()
    async with demo.session("lessonstudy") as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO dead_letters (id, consumer, event_id, event_type, trust_id, subject,"
                " body, error, deliveries) VALUES (:id, 'lessonstudy-directory', :eid, :type,"
                " :trust, 'cpd.directory.person.upserted', :body, 'database was restarting', 5)"
            ),
            {
                "id": dead_id,
                "eid": event.id,
                "type": event.type,
                "trust": OAKRIDGE,
                "body": event.model_dump_json(),
            },
        )
    headers = await demo.auth(*ADMIN)
    url = f"/v1/admin/lessonstudy/dead-letters/{dead_id}/replay"
    first = await demo.gateway.post(url, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "handled"
    again = await demo.gateway.post(url, headers=headers)
    assert again.status_code == 409
    async with demo.session("lessonstudy") as session:
        name = await session.scalar(
            text("SELECT name FROM people WHERE id = :id"), {"id": person_id}
        )
        handled = await session.scalar(
            text("SELECT count(*) FROM inbox WHERE event_id = :id"), {"id": event.id}
        )
    assert name == "Late Arrival"
    assert handled == 1
    listed = await demo.gateway.get("/v1/admin/lessonstudy/dead-letters", headers=headers)
    assert listed.json()["items"] == []
