"""Follow-ups: what is due for me (and counts for leaders), and the worker telling each item
once when it falls due, however often and however many replicas run it."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from cpd_common.events import catalogue
from cpd_common.worker import run_periodic
from cpd_demo.trust import NORTHFIELD, SOUTHBANK
from cpd_evaluation import worker
from cpd_evaluation.follow_ups.service import announce_due
from cpd_evaluation.models.voice import FollowUpNotice
from cpd_local.stack import Stack

from .conftest import Api, outbox, person_id


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


async def year_of_follow_ups(api: Api) -> dict[str, Any]:
    course = await api.create_activity(
        title="Feedback that moves learning on",
        sessions=[
            {"title": "Day 1", "held_on": days(-60), "duration_minutes": 360},
            {"title": "Day 2", "held_on": days(-30), "duration_minutes": 360},
        ],
        intent="Pupils act on written feedback in the next lesson.",
        gap_task="Use the feedback codes with one class for three weeks.",
        gap_task_due_on=days(-1),
    )
    jess = await api.add(course["id"], "n-head", "n-t1")
    await api.add(course["id"], "n-head", "n-t2")
    await api.add(course["id"], "n-head", "n-t3", role="facilitator")
    await api.put(
        f"/{course['id']}/participants/{jess['id']}/impact-report",
        "n-t1",
        {"report": "Most pupils redrafted.", "gap_task_done_on": days(-5)},
    )
    inset = await api.create_activity(
        title="INSET: reading across the curriculum",
        kind="inset",
        subject_specific=False,
        subject=None,
        sessions=[{"title": "INSET", "held_on": days(-1), "duration_minutes": 300}],
    )
    await api.add(inset["id"], "n-head", "n-t1")
    coaching = await api.create_activity(
        title="Coaching",
        kind="coaching",
        subject_specific=False,
        subject=None,
        sessions=[],
    )
    await api.add(coaching["id"], "n-head", "n-t6", role="coach")
    await api.add(coaching["id"], "n-head", "n-t2", role="coachee")
    await api.post(
        f"/{coaching['id']}/coaching-agreement",
        "n-t6",
        {
            "coach_id": person_id("n-t6"),
            "coachee_id": person_id("n-t2"),
            "agreed_outcomes": "Shorter explanations",
        },
    )
    entry = {"minutes": 40, "focus": "Explanations", "evidence": ["video"]}
    await api.post(
        f"/{coaching['id']}/sessions",
        "n-t6",
        {**entry, "held_on": days(-30), "next_session_on": days(-20)},
    )
    latest = await api.post(
        f"/{coaching['id']}/sessions",
        "n-t2",
        {**entry, "held_on": days(-14), "next_session_on": days(-2)},
    )
    return {"course": course, "inset": inset, "coaching": coaching, "latest": latest}


async def test_what_is_due_for_me_and_my_schools(demo: Stack, api: Api) -> None:
    made = await year_of_follow_ups(api)
    sam = (await api.get("/v1/follow-ups", "n-t2"))["items"]
    assert [(i["kind"], i["due_on"], i["overdue"]) for i in sam] == [
        ("coaching_session", days(-2), True),  # only the latest entry's next session
        ("impact_report", days(-2), True),  # 28 days after the last session
        ("gap_task", days(-1), True),
    ]
    jess = (await api.get("/v1/follow-ups", "n-t1"))["items"]
    # Jess did the gap task and reported; she still owes the INSET feedback.
    assert [(i["kind"], i["activity_id"]) for i in jess] == [("feedback", made["inset"]["id"])]
    await api.post(
        f"/{made['inset']['id']}/feedback",
        "n-t1",
        {"relevance": 4, "quality": 4, "expected_impact": 4},
    )
    assert (await api.get("/v1/follow-ups", "n-t1"))["items"] == []
    # The facilitator owes nothing; the coach sees the next session.
    assert (await api.get("/v1/follow-ups", "n-t3"))["items"] == []
    assert [i["kind"] for i in (await api.get("/v1/follow-ups", "n-t6"))["items"]] == [
        "coaching_session"
    ]
    # Leaders: counts for their schools only, no names; trust admins: every school.
    head = await api.get("/v1/follow-ups", "n-head")
    assert head["items"] == []
    [north] = head["schools"]
    assert north == {
        "school_id": str(NORTHFIELD),
        "gap_task": 1,
        "impact_report": 1,
        "coaching_session": 2,
        "feedback": 0,
        "evaluation_baseline": 0,
        "evaluation_short_term": 0,
        "evaluation_medium_term": 0,
        "evaluation_report": 0,
        "request_decision": 0,
        "overdue": 4,
    }
    admin = await api.get("/v1/follow-ups", "admin")
    assert [s["school_id"] for s in admin["schools"]] == sorted([str(NORTHFIELD), str(SOUTHBANK)])
    assert (await api.get("/v1/follow-ups", "r-admin"))["schools"][0]["gap_task"] == 0
    await api.call("GET", "/v1/follow-ups", "n-gov", expect=403)
    assert (await api.get("/v1/follow-ups", "n-t2"))["schools"] == []


async def test_each_item_is_told_once(demo: Stack, api: Api) -> None:
    await year_of_follow_ups(api)

    async def run() -> int:
        async with demo.session("evaluation") as session, session.begin():
            return await announce_due(session)

    # Two replicas at once, then again after a restart: each item told once (the feedback
    # Jess owes, Sam's gap task and impact report, the pair's next session).
    first = await asyncio.gather(run(), run())
    assert sorted(first) == [0, 4]
    assert await run() == 0
    events = await outbox(demo, catalogue.FollowUpDue.event_type)
    told = sorted((e["data"]["kind"], e["data"]["due_on"]) for e in events)
    assert told == [
        ("coaching_session", days(-2)),
        ("feedback", days(-1)),
        ("gap_task", days(-1)),
        ("impact_report", days(-2)),
    ]
    coaching = [e["data"] for e in events if e["data"]["kind"] == "coaching_session"]
    assert sorted(coaching[0]["person_ids"]) == sorted([person_id("n-t6"), person_id("n-t2")])
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(func.count()).select_from(FollowUpNotice)) == 4


async def test_the_worker_runs_the_follow_up_task(demo: Stack, api: Api) -> None:
    """The worker's periodic task (as ``python -m cpd_evaluation.worker`` runs it) tells what
    fell due at its first round and stops when asked."""
    await year_of_follow_ups(api)
    [task] = [t for t in worker.periodic_tasks() if t.name == "follow-ups"]
    stop = asyncio.Event()
    loop = asyncio.create_task(run_periodic(demo.services["evaluation"].sessionmaker, stop, task))
    for _ in range(200):
        if len(await outbox(demo, catalogue.FollowUpDue.event_type)) == 4:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert len(await outbox(demo, catalogue.FollowUpDue.event_type)) == 4
