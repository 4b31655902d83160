"""Classroom action enquiries and learning communities from the lesson study service become
activities too: members as participants, their dates as sessions, the hours they recorded;
redelivered events change nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_demo.trust import NORTHFIELD, SOUTHBANK
from cpd_local.stack import Stack

from .conftest import Api, person_id


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """These tests follow learning communities and enquiries from the lesson study service."""
    return ("gateway", "lessonstudy", "evaluation")


def days_ago(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


async def _publish(demo: Stack, event: catalogue.Event, *, times: int = 2) -> None:
    """Publishes an event as the lesson study service would, ``times`` times under fresh
    broker message ids (a redelivery), and lets the consumers handle it."""
    envelope = CloudEvent(
        source=event.source,
        type=event.event_type,
        subject=event.subject_id(),
        trustid=str(event.trust_id),
        data=event.model_dump(mode="json"),
    )
    js = await demo.js()
    for _ in range(times):
        await js.publish(
            event.nats_subject,
            json.dumps(envelope.model_dump(mode="json")).encode(),
            headers={"Nats-Msg-Id": str(uuid.uuid4())},
        )
    await demo.settle()


async def _participants(api: Api, activity_id: str) -> dict[str, tuple[float, str, str]]:
    items = (await api.get(f"/{activity_id}/participants", "admin"))["items"]
    return {p["person_id"]: (p["hours"], p["hours_basis"], p["role"]) for p in items}


async def test_a_learning_community_and_its_meetings(demo: Stack, api: Api) -> None:
    community = await api.post(
        "/v1/learning-communities",
        "n-t1",
        {
            "name": "Reasoning in mathematics triad",
            "school_ids": [str(NORTHFIELD), str(SOUTHBANK)],
            "learning_priority": "Pupils explain their mathematical reasoning in full sentences.",
            "starts_on": days_ago(70),
            "ends_on": days_ago(-60),
            "membership_design": "A primary and a secondary teacher and a teaching assistant.",
            "member_ids": [person_id("s-t1"), person_id("n-ta2")],
        },
    )
    base = f"/v1/learning-communities/{community['id']}"
    ids = {m["person_id"]: m["id"] for m in community["members"]}
    meeting = {
        "held_on": days_ago(50),
        "duration_minutes": 90,
        "cycle": 1,
        "minutes": "Agreed the first cycle: sentence stems for reasoning.",
        "attended": [ids[person_id("n-t1")], ids[person_id("s-t1")]],
    }
    await api.post(base + "/meetings", "n-t1", meeting)
    await api.post(
        base + "/meetings",
        "n-t1",
        {
            **meeting,
            "held_on": days_ago(2),
            "cycle": 2,
            "duration_minutes": 60,
            "attended": list(ids.values()),
        },
    )
    await demo.settle()
    [activity] = (await api.get("?kind=learning_community", "admin"))["items"]
    assert activity["title"] == "Reasoning in mathematics triad"
    assert activity["source"] == "lessonstudy" and activity["source_id"] == community["id"]
    assert [s["held_on"] for s in activity["sessions"]] == [days_ago(50), days_ago(2)]
    assert activity["sustained"]["pattern"] == "sustained"  # 48 days with a follow-up
    people = await _participants(api, activity["id"])
    assert people[person_id("n-t1")][:2] == (2.5, "lesson_study")
    assert people[person_id("s-t1")][0] == 2.5
    assert people[person_id("n-ta2")][0] == 1.0
    # The Southbank member's record counts it.
    record = await api.get(f"/v1/cpd-records/{person_id('s-t1')}", "s-head")
    assert activity["id"] in [a["activity_id"] for a in record["activities"]]


async def test_an_enquiry_from_start_to_completion(demo: Stack, api: Api) -> None:
    enquiry_id = uuid.uuid4()
    started = catalogue.EnquiryStarted(
        enquiry_id=enquiry_id,
        trust_id=(await api.get("/v1/entitlement", "admin"))["trust_id"],
        school_ids=[NORTHFIELD],
        title="Written explanations of equivalent fractions",
        subject="Mathematics",
        question="How can Year 5 pupils explain equivalent fractions in writing?",
        members=[
            catalogue.EnquiryMember(person_id=uuid.UUID(person_id("n-t1")), role="coordinator"),
            catalogue.EnquiryMember(person_id=uuid.UUID(person_id("n-t2")), role="member"),
            catalogue.EnquiryMember(person_id=None, role="member"),
        ],
        starts_on=date(2025, 9, 15),
    )
    await _publish(demo, started)
    [activity] = (await api.get("?kind=enquiry_group", "admin"))["items"]
    assert activity["focus"] == started.question and activity["subject"] == "Mathematics"
    people = await _participants(api, activity["id"])
    assert {p: r for p, (_, _, r) in people.items()} == {
        person_id("n-t1"): "facilitator",
        person_id("n-t2"): "participant",
    }
    completed = catalogue.EnquiryCompleted(
        enquiry_id=enquiry_id,
        trust_id=started.trust_id,
        school_ids=[NORTHFIELD],
        title=started.title,
        subject="Mathematics",
        stages_reached=["question", "data_collection", "analysis", "reporting"],
        completed_on=date(2026, 2, 9),
        hours=[
            catalogue.MemberHours(person_id=uuid.UUID(person_id("n-t1")), hours=9.5),
            catalogue.MemberHours(person_id=uuid.UUID(person_id("n-t2")), hours=6.25),
            catalogue.MemberHours(person_id=None, hours=4.0),
        ],
    )
    await _publish(demo, completed)
    await _publish(demo, started, times=1)  # a late redelivery of the start changes nothing
    [activity] = (await api.get("?kind=enquiry_group", "admin"))["items"]
    assert [s["held_on"] for s in activity["sessions"]] == ["2025-09-15", "2026-02-09"]
    assert activity["sustained"]["pattern"] == "sustained"
    people = await _participants(api, activity["id"])
    assert people[person_id("n-t1")] == (9.5, "lesson_study", "facilitator")
    assert people[person_id("n-t2")][0] == 6.25
    assert activity["participant_count"] == 2
