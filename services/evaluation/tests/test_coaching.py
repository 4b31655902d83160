"""Coaching and mentoring walled off from appraisal: only the coach and the coachee read the
agreement and the learning log (404 for everyone else on every log path); leaders see the
cadence only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from cpd_evaluation.models.voice import CoachingSession
from cpd_local.stack import Stack

from .conftest import Api, person_id


async def coaching_pair(api: Api, kind: str = "coaching") -> str:
    activity = await api.create_activity(
        title="Coaching: questioning in KS2",
        kind=kind,
        subject_specific=False,
        subject=None,
        sessions=[],
        costs={},
        release_time_hours=0,
    )
    aid = str(activity["id"])
    await api.add(aid, "n-head", "n-t6", role="coach")
    await api.add(aid, "n-head", "n-t2", role="coachee")
    return aid


AGREEMENT = {
    "coach_id": person_id("n-t6"),
    "coachee_id": person_id("n-t2"),
    "agreed_outcomes": "Pupils in Year 5 explain their reasoning in full sentences.",
}


def entry(held_on: str, minutes: int = 45, **kw: Any) -> dict[str, Any]:
    return {
        "held_on": held_on,
        "minutes": minutes,
        "focus": "Wait time after questions",
        "evidence": ["observation", "pupil_work"],
        "next_steps": "Try think-pair-share",
        "impact_noted": "Longer answers from the quieter group",
        **kw,
    }


async def test_only_the_pair_reads_the_log(demo: Stack, api: Api) -> None:
    aid = await coaching_pair(api)
    # A leader cannot write the pair's agreement for them.
    await api.post(f"/{aid}/coaching-agreement", "n-head", AGREEMENT, expect=403)
    agreement = await api.post(f"/{aid}/coaching-agreement", "n-t2", AGREEMENT)
    await api.post(f"/{aid}/coaching-agreement", "n-t6", AGREEMENT, expect=409)
    first = await api.post(f"/{aid}/sessions", "n-t6", entry("2025-10-01"))
    await api.post(f"/{aid}/sessions", "n-t2", entry("2025-10-15", 60))
    await api.post(f"/{aid}/sessions", "n-t6", entry("2025-11-05", next_session_on="2025-11-26"))
    assert len((await api.get(f"/{aid}/sessions", "n-t2"))["items"]) == 3
    assert (await api.get(f"/{aid}/coaching-agreement", "n-t6"))["id"] == agreement["id"]

    log_paths = [
        ("GET", f"/{aid}/coaching-agreement", None),
        ("PATCH", f"/{aid}/coaching-agreement", {"agreed_outcomes": "x"}),
        ("GET", f"/{aid}/sessions", None),
        ("POST", f"/{aid}/sessions", entry("2025-12-01")),
        ("GET", f"/{aid}/sessions/{first['id']}", None),
        ("PATCH", f"/{aid}/sessions/{first['id']}", {"minutes": 5}),
        ("DELETE", f"/{aid}/sessions/{first['id']}", None),
    ]
    for who in ("n-head", "admin", "n-t1", "s-head", "r-admin"):
        for method, path, body in log_paths:
            await api.call(method, path, who, json=body, headers={"If-Match": "*"}, expect=404)
    for method, path, body in log_paths:
        await api.call(method, path, "n-gov", json=body, expect=403)
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(func.count()).select_from(CoachingSession)) == 3

    # What leaders do see: that coaching happens and how often.
    cadence = await api.get(f"/{aid}/coaching", "n-head")
    assert cadence == {
        "activity_id": aid,
        "agreement_in_place": True,
        "sessions": 3,
        "minutes": 150,
        "mean_days_between": 17.5,
        "longest_gap_days": 21,
        "first_session_on": "2025-10-01",
        "last_session_on": "2025-11-05",
    }
    assert (await api.get(f"/{aid}/coaching", "admin")) == cadence
    await api.call("GET", f"/{aid}/coaching", "n-t1", expect=404)


async def test_the_pair_keeps_the_log(api: Api) -> None:
    aid = await coaching_pair(api, kind="mentoring")
    await api.post(
        f"/{aid}/coaching-agreement",
        "n-t6",
        {**AGREEMENT, "coachee_id": person_id("n-t1")},
        expect=422,  # not a participant
    )
    await api.post(f"/{aid}/coaching-agreement", "n-t6", AGREEMENT)
    created = await api.post(f"/{aid}/sessions", "n-t2", entry("2025-10-01"))
    path = f"/v1/activities/{aid}/sessions/{created['id']}"
    changed = await api.patch(path, "n-t6", {"minutes": 30, "evidence": ["video"]})
    assert changed["minutes"] == 30 and changed["evidence"] == ["video"]
    await api.patch(path, "n-t6", {"next_session_on": "2025-09-01"}, expect=422)
    await api.post(f"/{aid}/sessions", "n-t2", entry("2025-10-01", evidence=["gossip"]), expect=422)
    outcome = await api.patch(
        f"/v1/activities/{aid}/coaching-agreement", "n-t2", {"agreed_outcomes": "Revised"}
    )
    assert outcome["agreed_outcomes"] == "Revised"
    await api.delete(path, "n-t2")
    assert (await api.get(f"/{aid}/coaching", "n-head"))["sessions"] == 0


async def test_only_coaching_activities_keep_a_log(api: Api) -> None:
    activity = await api.create_activity()
    aid = activity["id"]
    await api.add(aid, "n-head", "n-t6")
    await api.add(aid, "n-head", "n-t2")
    await api.post(f"/{aid}/coaching-agreement", "n-t6", AGREEMENT, expect=409)
    await api.call("GET", f"/{aid}/coaching", "n-head", expect=409)
