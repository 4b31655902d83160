"""End to end through the gateway: an enquiry and a learning community's meetings reach the
evaluation service as CPD activities with the members' hours, each event handled once by its
consumer even when the broker delivers it again."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from cpd_local.stack import Stack

from .conftest import Api, days_ago
from .enquiry_helpers import (
    COMMUNITIES,
    ENQUIRIES,
    add_data,
    add_finding,
    create_community,
    create_enquiry,
    member_id,
    pid,
)


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """This test follows the events into the evaluation service."""
    return ("gateway", "audit", "lessonstudy", "evaluation")


async def _handled(demo: Stack, event_id: str) -> int:
    async with demo.session("evaluation") as session:
        return int(
            await session.scalar(
                text("SELECT count(*) FROM inbox WHERE event_id = :id"), {"id": event_id}
            )
            or 0
        )


async def _outbox(demo: Stack, event_type: str) -> list[dict]:  # type: ignore[type-arg]
    async with demo.session("lessonstudy") as session:
        rows = await session.execute(
            text("SELECT envelope FROM outbox WHERE type = :t ORDER BY seq"), {"t": event_type}
        )
        return [r[0] for r in rows]


async def test_enquiry_and_meetings_become_activities_once(demo: Stack, api: Api) -> None:
    enquiry = await create_enquiry(api, "n-t1", ["n-t2"])
    base = f"{ENQUIRIES}/{enquiry['id']}"
    await api.post(base + "/start", "n-t1", expect=200)
    data = await add_data(api, enquiry["id"], "n-t2")
    await add_finding(api, enquiry["id"], "n-t1", [data["id"]])
    await api.post(
        base + "/time-records",
        "n-t1",
        {
            "kind": "analysis",
            "held_on": days_ago(1),
            "attendance": [
                {"member_id": member_id(enquiry, "n-t1"), "minutes": 120},
                {"member_id": member_id(enquiry, "n-t2"), "minutes": 45},
            ],
        },
    )
    await api.post(base + "/complete", "n-t1", expect=200)
    community = await create_community(api, "n-t1", ["s-t1"])
    await api.post(
        f"{COMMUNITIES}/{community['id']}/meetings",
        "n-t1",
        {
            "held_on": days_ago(5),
            "duration_minutes": 90,
            "cycle": 1,
            "minutes": "Agreed the first cycle.",
            "attended": [member_id(community, "n-t1"), member_id(community, "s-t1")],
        },
    )
    await demo.settle()

    envelopes = [
        *await _outbox(demo, "cpd.lessonstudy.enquiry.started.v1"),
        *await _outbox(demo, "cpd.lessonstudy.enquiry.completed.v1"),
        *await _outbox(demo, "cpd.lessonstudy.community.meeting_held.v1"),
    ]
    assert len(envelopes) == 3
    # The broker delivers every event a second time (new message ids): nothing changes.
    js = await demo.js()
    for envelope in envelopes:
        subject = envelope["type"].rsplit(".", 1)[0]
        await js.publish(
            subject, json.dumps(envelope).encode(), headers={"Nats-Msg-Id": str(uuid.uuid4())}
        )
    await demo.settle()
    for envelope in envelopes:
        assert await _handled(demo, envelope["id"]) == 1, envelope["type"]

    [activity] = (await api.get("/v1/activities?kind=enquiry_group", "admin"))["items"]
    assert (activity["source"], activity["source_id"]) == ("lessonstudy", enquiry["id"])
    people = {
        p["person_id"]: p["hours"]
        for p in (await api.get(f"/v1/activities/{activity['id']}/participants", "admin"))["items"]
    }
    assert people == {pid("n-t1"): 2.0, pid("n-t2"): 0.75}
    [met] = (await api.get("/v1/activities?kind=learning_community", "admin"))["items"]
    assert met["source_id"] == community["id"]
    people = {
        p["person_id"]: p["hours"]
        for p in (await api.get(f"/v1/activities/{met['id']}/participants", "admin"))["items"]
    }
    assert people == {pid("n-t1"): 1.5, pid("s-t1"): 1.5}
