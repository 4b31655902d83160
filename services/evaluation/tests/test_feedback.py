"""Participant feedback: each participant once; while the window is open only the count
moves (no differencing); after it closes aggregates of at least 5, withheld below."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from cpd_evaluation.models.voice import Feedback
from cpd_local.stack import Stack

from .conftest import Api

TEACHERS = ["n-t1", "n-t2", "n-t3", "n-t4", "n-t5", "n-t6"]


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


async def course_with(api: Api, people: list[str]) -> str:
    activity = await api.create_activity(
        sessions=[
            {"title": "Day 1", "held_on": days_ago(20), "duration_minutes": 360},
            {"title": "Day 2", "held_on": days_ago(1), "duration_minutes": 360},
        ]
    )
    for who in people:
        await api.add(activity["id"], "n-head", who)
    return str(activity["id"])


def answer(score: int, text: str | None = None) -> dict[str, Any]:
    return {
        "relevance": score,
        "quality": score,
        "expected_impact": max(1, score - 1),
        "will_do_differently": text,
        "comment": None,
    }


async def close_now(api: Api, aid: str) -> dict[str, Any]:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return await api.put(f"/{aid}/feedback-window", "n-head", {"closes_at": past})


async def test_open_window_shows_only_the_count(demo: Stack, api: Api) -> None:
    aid = await course_with(api, TEACHERS)
    for i, who in enumerate(TEACHERS[:5]):
        await api.post(f"/{aid}/feedback", who, answer(4, f"Plan open questions {i}"))
    before = await api.get(f"/{aid}/feedback", "n-head")
    # The attack: add one answer and read again; only the count may change.
    await api.post(f"/{aid}/feedback", "n-t6", answer(1, "Nothing"))
    after = await api.get(f"/{aid}/feedback", "n-head")
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"responses"}, changed
    assert after["responses"] == 6 and after["released"] is False
    assert after["relevance"] is None and after["comments"] == []
    assert after["will_do_differently"] == []
    assert "open" in after["withheld_reason"]
    # The trust admin and the participants see the same (nothing but the count).
    assert (await api.get(f"/{aid}/feedback", "admin")) == after
    assert (await api.get(f"/{aid}/feedback", "n-t1")) == after

    window = await close_now(api, aid)
    assert window["status"] == "closed" and window["fixed"] is True
    released = await api.get(f"/{aid}/feedback", "n-head")
    assert released["released"] is True and released["responses"] == 6
    assert released["relevance"] == {"mean": 3.5, "distribution": [1, 0, 0, 5, 0]}
    assert released["expected_impact"]["distribution"] == [1, 0, 5, 0, 0]
    # Texts come unattributed, in alphabetical order, never in the order given.
    assert released["will_do_differently"][0] == "Nothing"
    # Closed windows take no more feedback and never reopen.
    await api.post(f"/{aid}/feedback", "n-t6", answer(5), expect=409)
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    await api.put(f"/{aid}/feedback-window", "n-head", {"closes_at": future}, expect=409)


async def test_withheld_below_five_after_close(api: Api) -> None:
    aid = await course_with(api, TEACHERS[:4])
    for who in TEACHERS[:4]:
        await api.post(f"/{aid}/feedback", who, answer(5, "Use the stems"))
    await close_now(api, aid)
    summary = await api.get(f"/{aid}/feedback", "n-head")
    assert summary["status"] == "closed" and summary["released"] is False
    assert summary["responses"] == 4
    assert "at least 5" in summary["withheld_reason"]
    assert summary["quality"] is None and summary["will_do_differently"] == []


async def test_each_participant_once_and_reads_their_own(demo: Stack, api: Api) -> None:
    aid = await course_with(api, ["n-t1", "n-t2"])
    created = await api.call(
        "POST", f"/{aid}/feedback", "n-t1", json=answer(4, "Wait time"), expect=201
    )
    assert created.status_code == 201
    assert created.headers["location"] == f"/v1/activities/{aid}/feedback/mine"
    await api.post(f"/{aid}/feedback", "n-t1", answer(2), expect=409)
    mine = await api.get(f"/{aid}/feedback/mine", "n-t1")
    assert mine["relevance"] == 4 and mine["will_do_differently"] == "Wait time"
    assert mine["given_on"] == date.today().isoformat()
    # Nobody else reads it as hers; Sam has given none.
    await api.call("GET", f"/{aid}/feedback/mine", "n-head", expect=404)
    await api.call("GET", f"/{aid}/feedback/mine", "n-t2", expect=404)
    # Only participants give feedback; others outside the activity do not see it at all.
    await api.post(f"/{aid}/feedback", "n-head", answer(3), expect=403)
    await api.post(f"/{aid}/feedback", "n-t3", answer(3), expect=404)
    await api.post(f"/{aid}/feedback", "r-admin", answer(3), expect=404)
    await api.call("GET", f"/{aid}/feedback", "r-admin", expect=404)
    await api.call("GET", f"/{aid}/feedback", "n-gov", expect=403)
    # Bad ratings lose nothing.
    resp = await api.call(
        "POST", f"/{aid}/feedback", "n-t2", json={**answer(3), "quality": 6}, expect=422
    )
    assert resp.json()["errors"][0]["loc"] == "body.quality"
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(func.count()).select_from(Feedback)) == 1


async def test_window_opens_at_first_session_and_only_managers_set_it(api: Api) -> None:
    future = (date.today() + timedelta(days=10)).isoformat()
    activity = await api.create_activity(
        sessions=[{"title": "Day 1", "held_on": future, "duration_minutes": 360}]
    )
    aid = activity["id"]
    await api.add(aid, "n-head", "n-t1")
    await api.post(f"/{aid}/feedback", "n-t1", answer(4), expect=409)
    window = await api.get(f"/{aid}/feedback-window", "n-t1")
    assert window["status"] == "open" and window["fixed"] is False
    later = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    await api.put(f"/{aid}/feedback-window", "n-t1", {"closes_at": later}, expect=403)
    window = await api.put(f"/{aid}/feedback-window", "n-head", {"closes_at": later})
    assert window["fixed"] is True


async def test_removing_a_participant_keeps_released_results(demo: Stack, api: Api) -> None:
    aid = await course_with(api, TEACHERS[:5])
    for who in TEACHERS[:5]:
        await api.post(f"/{aid}/feedback", who, answer(3))
    await close_now(api, aid)
    before = await api.get(f"/{aid}/feedback", "n-head")
    participants = (await api.get(f"/{aid}/participants", "n-head"))["items"]
    await api.delete(f"/v1/activities/{aid}/participants/{participants[0]['id']}", "n-head")
    after = await api.get(f"/{aid}/feedback", "n-head")
    assert after["relevance"] == before["relevance"] and after["responses"] == 5
