"""One X per Y under concurrency: one feedback per participant, one coaching agreement per
activity, one provider name per trust: of simultaneous requests one wins, the others get a
clear 409, never a 500."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from cpd_common.testing.concurrency import one_winner, race
from cpd_evaluation.models.voice import CoachingAgreement, Feedback, Provider
from cpd_local.stack import Stack

from .conftest import BASE, Api, person_id


async def count(demo: Stack, model: type) -> int:  # type: ignore[type-arg]
    async with demo.session("evaluation") as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_one_feedback_per_participant(demo: Stack, api: Api) -> None:
    today = date.today()
    activity = await api.create_activity(
        sessions=[
            {"held_on": (today - timedelta(days=3)).isoformat(), "duration_minutes": 60},
        ]
    )
    await api.add(activity["id"], "n-head", "n-t1")
    headers = await api.headers("n-t1")
    body = {"relevance": 4, "quality": 4, "expected_impact": 4}
    responses, _ = await race(
        6,
        lambda: demo.gateway.post(f"{BASE}/{activity['id']}/feedback", json=body, headers=headers),
    )
    one_winner(responses)
    assert await count(demo, Feedback) == 1


async def test_one_agreement_per_coaching_activity(demo: Stack, api: Api) -> None:
    activity = await api.create_activity(
        title="Coaching", kind="coaching", subject_specific=False, subject=None, sessions=[]
    )
    await api.add(activity["id"], "n-head", "n-t6", role="coach")
    await api.add(activity["id"], "n-head", "n-t2", role="coachee")
    headers = await api.headers("n-t6")
    body = {
        "coach_id": person_id("n-t6"),
        "coachee_id": person_id("n-t2"),
        "agreed_outcomes": "Shorter explanations",
    }
    responses, _ = await race(
        6,
        lambda: demo.gateway.post(
            f"{BASE}/{activity['id']}/coaching-agreement", json=body, headers=headers
        ),
    )
    one_winner(responses)
    assert await count(demo, CoachingAgreement) == 1


async def test_one_provider_name_per_trust(demo: Stack, api: Api) -> None:
    headers = await api.headers("admin")
    body = {"name": "North Pennine Maths Hub", "kind": "teaching_school_hub"}
    responses, _ = await race(
        6, lambda: demo.gateway.post("/v1/providers", json=body, headers=headers)
    )
    one_winner(responses)
    assert await count(demo, Provider) == 1
