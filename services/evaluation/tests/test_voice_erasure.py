"""Erasure of what a person added to activities: feedback keeps its ratings without
attribution or text, reflections and coaching logs go, and no name is left in free text."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_evaluation.models.voice import (
    CoachingAgreement,
    CoachingSession,
    Feedback,
    Provider,
    Reflection,
)
from cpd_local.stack import Stack

from .conftest import Api, person_id

TEACHERS = ["n-t1", "n-t2", "n-t3", "n-t4", "n-t5"]


async def test_erased_persons_voice(demo: Stack, api: Api) -> None:
    erased = PEOPLE_BY_KEY["n-t2"]  # Sam Patel
    today = date.today()
    course = await api.create_activity(
        sessions=[
            {
                "title": "Day 1",
                "held_on": (today - timedelta(days=9)).isoformat(),
                "duration_minutes": 60,
            },
            {"title": "Day 2", "held_on": today.isoformat(), "duration_minutes": 60},
        ]
    )
    cid = course["id"]
    for who in TEACHERS:
        await api.add(cid, "n-head", who)
    for who in TEACHERS:
        await api.post(
            f"/{cid}/feedback",
            who,
            {
                "relevance": 4 if who != "n-t2" else 2,
                "quality": 4,
                "expected_impact": 3,
                "will_do_differently": "Pair with Sam Patel on questioning"
                if who == "n-t1"
                else None,
                "comment": "I am the only KS2 ECT" if who == "n-t2" else None,
            },
        )
    await api.post(f"/{cid}/reflections", "n-t2", {"tried": "My own words"})
    jess_entry = await api.post(
        f"/{cid}/reflections",
        "n-t1",
        {"tried": "Watched Sam Patel model it", "mentor_id": person_id("n-t2")},
    )
    coaching = await api.create_activity(
        title="Coaching", kind="coaching", subject_specific=False, subject=None, sessions=[]
    )
    await api.add(coaching["id"], "n-head", "n-t6", role="coach")
    await api.add(coaching["id"], "n-head", "n-t2", role="coachee")
    await api.post(
        f"/{coaching['id']}/coaching-agreement",
        "n-t6",
        {"coach_id": person_id("n-t6"), "coachee_id": person_id("n-t2"), "agreed_outcomes": "x"},
    )
    await api.post(
        f"/{coaching['id']}/sessions",
        "n-t6",
        {"held_on": "2025-10-01", "minutes": 30, "focus": "Sam Patel's routines"},
    )
    await api.post(
        "/v1/providers",
        "admin",
        {"name": "Hub", "kind": "external", "evidence": "Sam Patel vouched for it"},
    )
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await api.put(f"/{cid}/feedback-window", "n-head", {"closes_at": past})
    before = await api.get(f"/{cid}/feedback", "n-head")

    resp = await demo.gateway.post(
        f"/v1/people/{erased.id}/erase", headers=await api.headers("admin")
    )
    assert resp.status_code == 202, resp.text
    await demo.settle()

    after = await api.get(f"/{cid}/feedback", "n-head")
    # Ratings stay (the released figures keep their shape); Sam's own words go.
    assert after["relevance"] == before["relevance"] and after["responses"] == 5
    assert after["comments"] == []
    assert after["will_do_differently"] == ["Pair with a former participant on questioning"]
    async with demo.session("evaluation") as session:
        rows = (await session.execute(select(Feedback.participant_id, Feedback.relevance))).all()
        assert sum(1 for p, r in rows if p is None) == 1
        assert [r for p, r in rows if p is None] == [2]
        authors = (await session.execute(select(Reflection.author_id, Reflection.mentor_id))).all()
        assert authors == [(uuid.UUID(person_id("n-t1")), None)]
        assert await session.scalar(select(func.count()).select_from(CoachingAgreement)) == 0
        assert await session.scalar(select(func.count()).select_from(CoachingSession)) == 0
        assert await session.scalar(select(Provider.evidence)) == (
            "a former participant vouched for it"
        )
    entry = await api.get(f"/{cid}/reflections/{jess_entry['id']}", "n-t1")
    assert entry["tried"] == "Watched a former participant model it"
    assert entry["mentor_id"] is None
    cadence = await api.get(f"/{coaching['id']}/coaching", "n-head")
    assert cadence["sessions"] == 0 and cadence["agreement_in_place"] is False
