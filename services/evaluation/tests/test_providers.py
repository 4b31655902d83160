"""Providers: CRUD with ETags, one name per trust, the four questions, activities naming a
provider of their own trust, and the trust-wide summary with feedback withheld below 5."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cpd_local.stack import Stack

from .conftest import Api

HUB = {
    "name": "North Maths Hub",
    "kind": "teaching_school_hub",
    "website": "https://maths-hub.example",
    "evidence": "Trials of the mastery approach, published.",
    "follow_up": "Work groups meet across two terms.",
}


async def test_crud_with_etags_and_the_four_questions(api: Api) -> None:
    resp = await api.call("POST", "/v1/providers", "n-head", json=HUB, expect=201)
    hub = resp.json()
    assert resp.headers["location"] == f"/v1/providers/{hub['id']}"
    assert [q["key"] for q in hub["questions"]] == [
        "evidence",
        "follow_up",
        "impact_evaluation",
        "quality_corroboration",
    ]
    assert hub["unanswered"] == 2
    await api.post("/v1/providers", "admin", HUB, expect=409)
    await api.post("/v1/providers", "n-t1", {**HUB, "name": "Other"}, expect=403)
    await api.post("/v1/providers", "n-head", {**HUB, "name": "X", "kind": "guru"}, expect=422)
    path = f"/v1/providers/{hub['id']}"
    changed = await api.patch(path, "admin", {"quality_corroboration": "Ofsted-rated hub."})
    assert changed["unanswered"] == 1
    await api.call("PATCH", path, "admin", json={"name": "Y"}, expect=428)
    await api.call(
        "PATCH", path, "admin", json={"name": "Y"}, headers={"If-Match": '"0"'}, expect=412
    )
    await api.patch(path, "admin", {"name": None}, expect=422)
    # Staff read providers; other trusts do not see them; governors cannot.
    assert (await api.get(path, "n-t1"))["name"] == HUB["name"]
    await api.call("GET", path, "r-admin", expect=404)
    await api.call("GET", "/v1/providers", "n-gov", expect=403)
    listed = await api.get("/v1/providers?kind=teaching_school_hub", "n-t1")
    assert [p["id"] for p in listed["items"]] == [hub["id"]]

    # Activities name a provider of their own trust.
    other = await api.post("/v1/providers", "r-admin", {**HUB, "kind": "external"})
    await api.create_activity(provider_id=other["id"], expect=422)
    activity = await api.create_activity(provider_id=hub["id"])
    await api.patch(
        f"/v1/activities/{activity['id']}", "n-head", {"provider_id": other["id"]}, expect=422
    )
    # In use: kept; once no activity names it, it can go.
    await api.delete(path, "admin", expect=409)
    await api.patch(f"/v1/activities/{activity['id']}", "n-head", {"provider_id": None})
    await api.delete(path, "n-t1", expect=403)
    await api.delete(path, "admin")
    await api.call("GET", path, "admin", expect=404)


async def test_summary_across_the_trust(demo: Stack, api: Api) -> None:
    hub = await api.post("/v1/providers", "admin", HUB)
    today = date.today()
    sessions = [
        {
            "title": "Day 1",
            "held_on": (today - timedelta(days=30)).isoformat(),
            "duration_minutes": 360,
        },
        {
            "title": "Day 2",
            "held_on": (today - timedelta(days=2)).isoformat(),
            "duration_minutes": 120,
        },
    ]
    big = await api.create_activity(provider_id=hub["id"], sessions=sessions)
    small = await api.create_activity(
        provider_id=hub["id"], sessions=sessions, costs={"fees": "300"}
    )
    teachers = ["n-t1", "n-t2", "n-t3", "n-t4", "n-t5"]
    for who in teachers:
        await api.add(big["id"], "n-head", who, hours="8")
    await api.add(small["id"], "n-head", "n-t6", hours="4")
    rating = {"relevance": 4, "quality": 5, "expected_impact": 3}
    for who in teachers:
        await api.post(f"/{big['id']}/feedback", who, rating)
    await api.post(f"/{small['id']}/feedback", "n-t6", {**rating, "quality": 1})

    path = f"/v1/providers/{hub['id']}/summary"
    before = await api.get(path, "admin")
    assert before["activities"] == 2 and before["participants"] == 6
    assert before["hours"] == 44.0
    # The default course costs 830; the small one only its 300 fees.
    assert before["total_cost"] == 830 + 300
    assert before["cost_per_participant_hour"] == round((830 + 300) / 44, 2)
    assert before["feedback"]["released"] is False  # no window closed yet

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await api.put(f"/{big['id']}/feedback-window", "n-head", {"closes_at": past})
    released = (await api.get(path, "n-head"))["feedback"]
    assert released["released"] is True and released["responses"] == 5
    assert released["quality"]["mean"] == 5.0
    # The small activity closing (one answer) changes nothing: its results are never released.
    await api.put(f"/{small['id']}/feedback-window", "n-head", {"closes_at": past})
    assert (await api.get(path, "n-head"))["feedback"] == released
    await api.call("GET", path, "n-t1", expect=403)
    await api.call("GET", path, "r-admin", expect=404)
