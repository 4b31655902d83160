"""What the service learns from events: needs from the audit service's register, people
with FTE and start dates from the directory, and erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY
from cpd_evaluation.models import Need, Person
from cpd_local.stack import Stack

from .conftest import Api, outbox, person_id


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """These tests record needs in the audit service's register."""
    return ("gateway", "audit", "evaluation")


async def _record_need(api: Api) -> str:
    need = await api.post(
        "/v1/needs",
        "n-head",
        {
            "school_id": str(NORTHFIELD),
            "level": "whole_school",
            "title": "Reasoning in maths",
            "description": "Pupils give answers without explaining them.",
            "need_types": ["skills"],
            "evidence": [{"source": "learning_walk", "notes": "Few explanations heard."}],
            "priority": "high",
        },
    )
    await api.stack.settle()
    return str(need["id"])


async def test_activities_answer_needs_from_the_register(demo: Stack, api: Api) -> None:
    need_id = await _record_need(api)
    async with demo.session("evaluation") as session:
        need = await session.get(Need, need_id)
        assert need is not None and need.level == "whole_school" and need.school_id == NORTHFIELD
        assert need.need_types == ["skills"] and need.priority == "high"
    linked = await api.create_activity(need_ids=[need_id])
    other = await api.create_activity(title="Unlinked")
    assert linked["need_ids"] == [need_id]
    found = await api.get(f"?need_id={need_id}", "n-head")
    assert [a["id"] for a in found["items"]] == [linked["id"]]
    # A need of another trust is unknown here.
    await api.call(
        "POST",
        "",
        "r-admin",
        json={
            "title": "x",
            "kind": "course",
            "school_ids": [str(PEOPLE_BY_KEY["r-t1"].school_ids[0])],
            "need_ids": [need_id],
        },
        expect=422,
    )
    unlinked = await api.patch(f"/{linked['id']}", "n-head", {"need_ids": []})
    assert unlinked["need_ids"] == [] and other["need_ids"] == []


async def test_people_carry_fte_and_start_date(demo: Stack, api: Api) -> None:
    async with demo.session("evaluation") as session:
        ta = await session.get(Person, PEOPLE_BY_KEY["n-ta2"].id)
    assert ta is not None and ta.fte == 0.6 and ta.start_date == PEOPLE_BY_KEY["n-ta2"].start_date


async def test_erasure_leaves_an_anonymous_participation_and_no_name(demo: Stack, api: Api) -> None:
    erased = PEOPLE_BY_KEY["n-t2"]  # Sam Patel
    activity = await api.create_activity(
        title="Coaching for Sam Patel",
        kind="coaching",
        focus="SAM PATEL works on behaviour routines; Sam Patelson is someone else.",
        gap_task="Sam Patel films a lesson.",
    )
    aid = activity["id"]
    sam = await api.add(aid, "n-head", "n-t2", hours="3")
    await api.add(aid, "n-head", "n-t1", hours="3")
    await api.put(
        f"/{aid}/participants/{sam['id']}/impact-report",
        "n-t2",
        {"report": "I, Sam Patel, tried the routines."},
    )
    self_logged = await api.create_activity(
        "n-t2", title="Reading on feedback", kind="online_course"
    )

    resp = await demo.gateway.post(
        f"/v1/people/{erased.id}/erase", headers=await api.headers("admin")
    )
    assert resp.status_code == 202, resp.text
    await demo.settle()

    after = await api.get(f"/{aid}", "n-head")
    assert after["title"] == "Coaching for a former participant"
    assert after["focus"] == (
        "a former participant works on behaviour routines; Sam Patelson is someone else."
    )
    assert after["gap_task"] == "a former participant films a lesson."
    people = (await api.get(f"/{aid}/participants", "n-head"))["items"]
    former = next(p for p in people if p["id"] == sam["id"])
    assert former["person_id"] is None and former["former_participant"] is True
    assert former["name"] == "Former participant" and former["impact_report"] is None
    assert former["hours"] == 3.0  # the activity's figures keep their shape
    assert after["participant_count"] == 2
    # Whoever recorded it is no longer named.
    mine = await api.get(f"/{self_logged['id']}", "admin")
    assert mine["created_by"] is None
    events = await outbox(demo, catalogue.ParticipationRecorded.event_type)
    last = [e["data"] for e in events if e["data"]["participation_id"] == sam["id"]][-1]
    assert last["person_id"] is None
    async with demo.session("evaluation") as session:
        assert await session.get(Person, erased.id) is None
        rows = (await session.execute(select(Need.id))).all()
        assert rows == []
    assert person_id("n-t2") not in str(await api.get(f"/{aid}/participants", "n-head"))
