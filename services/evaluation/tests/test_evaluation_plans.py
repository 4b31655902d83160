"""Evaluation plans: one per activity or programme, with warnings for weak designs, a status
that only moves forward, ETags on change, and the plan visible only to those it concerns."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from cpd_evaluation.models.plans import EvaluationPlan, EvaluationPlanActivity
from cpd_local.stack import Stack

from .conftest import Api

PLANS = "/v1/evaluations"


def plan_body(*activity_ids: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Does questioning for reasoning lift KS2 maths?",
        "activity_ids": list(activity_ids),
        "design_check": {
            "reaches_pupil_outcomes": True,
            "note": "Teachers learn the questions, use them daily, pupils explain more.",
        },
        "short_term_outcome": "Teachers ask open reasoning questions in most lessons.",
        "medium_term_outcome": "Year 5 pupils score higher on reasoning items.",
        "baseline": {
            "quantitative": ["Year 5 reasoning test"],
            "qualitative": ["Pupil interviews on explaining"],
            "analysis": "Mean score and spread per class.",
        },
        "short_term_data": {
            "quantitative": ["Questioning observation tally"],
            "qualitative": ["Pupil interviews on explaining"],
            "analysis": "Themes coded against the baseline interviews.",
        },
        "medium_term_data": {
            "quantitative": ["Year 5 reasoning test"],
            "analysis": "Change in mean score with an effect size.",
        },
        "reported_to": "The curriculum committee of the governing board.",
        "leads_to_action": "Decide whether to roll the programme out to KS1.",
        "levels": ["reactions", "use_of_knowledge_and_skills", "pupil_outcomes"],
        "due": {
            "baseline": "2025-09-30",
            "short_term": "2025-12-12",
            "medium_term": "2026-05-22",
            "report": "2026-06-30",
        },
    }
    body.update(fields)
    return body


async def new_activity(api: Api, who: str = "n-head") -> str:
    return str((await api.create_activity(who))["id"])


def codes(plan: dict[str, Any]) -> list[str]:
    return [w["code"] for w in plan["warnings"]]


async def count(stack: Stack, model: Any) -> int:
    async with stack.session("evaluation") as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_create_read_change_delete_with_etags(demo: Stack, api: Api) -> None:
    aid = await new_activity(api)
    key = {"Idempotency-Key": "plan-create-1"}
    resp = await api.call("POST", PLANS, "n-head", json=plan_body(aid), headers=key, expect=201)
    plan = resp.json()
    pid = plan["id"]
    assert resp.headers["location"] == f"{PLANS}/{pid}"
    assert plan["status"] == "planned" and plan["activity_ids"] == [aid]
    assert plan["warnings"] == []
    assert plan["design_check"]["reaches_pupil_outcomes"] is True
    assert plan["due"]["medium_term"] == "2026-05-22"
    # The same create retried with its key stores nothing twice.
    again = await api.call("POST", PLANS, "n-head", json=plan_body(aid), headers=key, expect=201)
    assert again.json()["id"] == pid
    assert await count(demo, EvaluationPlan) == 1

    got = await api.call("GET", f"{PLANS}/{pid}", "n-head")
    etag = got.headers["etag"]
    assert got.json() == plan
    path = f"{PLANS}/{pid}"
    await api.call("PATCH", path, "n-head", json={"title": "x"}, expect=428)
    await api.call(
        "PATCH", path, "n-head", json={"title": "x"}, headers={"If-Match": '"stale"'}, expect=412
    )
    changed = (
        await api.call(
            "PATCH", path, "n-head", json={"title": "Reasoning in KS2"}, headers={"If-Match": etag}
        )
    ).json()
    assert changed["title"] == "Reasoning in KS2"
    # The old ETag no longer matches.
    await api.call(
        "PATCH", path, "n-head", json={"title": "y"}, headers={"If-Match": etag}, expect=412
    )
    # Due dates out of order are refused and change nothing.
    await api.patch(
        path, "n-head", {"due": {"baseline": "2026-01-01", "report": "2025-01-01"}}, expect=422
    )
    assert (await api.get(path, "n-head"))["title"] == "Reasoning in KS2"

    listed = await api.get(PLANS, "n-head", params={"activity_id": aid})
    assert [p["id"] for p in listed["items"]] == [pid]
    assert (await api.get(PLANS, "n-head", params={"status": "reported"}))["items"] == []
    assert len((await api.get(PLANS, "n-head", params={"status": "planned"}))["items"]) == 1

    await api.call("DELETE", path, "n-head", expect=428)
    await api.call("DELETE", path, "n-head", headers={"If-Match": etag}, expect=412)
    await api.delete(path, "n-head")
    await api.call("GET", path, "n-head", expect=404)
    assert await count(demo, EvaluationPlan) == 0
    assert await count(demo, EvaluationPlanActivity) == 0
    # The activity is free for a new plan.
    await api.post(PLANS, "n-head", plan_body(aid))


async def test_warnings_name_weak_designs_without_refusing_them(api: Api) -> None:
    empty = {"quantitative": [], "qualitative": []}
    no_baseline = await api.post(
        PLANS, "n-head", plan_body(await new_activity(api), baseline=empty)
    )
    assert codes(no_baseline) == ["no_baseline"]

    unmirrored = await api.post(
        PLANS,
        "n-head",
        plan_body(
            await new_activity(api),
            short_term_data={"qualitative": ["Staff survey"]},
            medium_term_data={"quantitative": ["Attendance"]},
        ),
    )
    assert codes(unmirrored) == ["outcomes_do_not_mirror_baseline"]

    reactions = await api.post(
        PLANS, "n-head", plan_body(await new_activity(api), levels=["reactions"])
    )
    assert codes(reactions) == ["only_reactions"]

    # Mirroring compares items regardless of case; fixing the plan clears the warning.
    path = f"{PLANS}/{unmirrored['id']}"
    fixed = await api.patch(
        path, "n-head", {"medium_term_data": {"quantitative": ["YEAR 5 reasoning test"]}}
    )
    assert fixed["warnings"] == []
    assert (await api.get(path, "n-head"))["warnings"] == []
    both = await api.patch(path, "n-head", {"baseline": empty, "levels": ["reactions"]})
    assert codes(both) == ["no_baseline", "only_reactions"]
    await api.post(
        PLANS, "n-head", plan_body(await new_activity(api), levels=["feelings"]), expect=422
    )
    await api.post(PLANS, "n-head", plan_body(await new_activity(api), levels=[]), expect=422)


async def test_status_only_moves_forward(demo: Stack, api: Api) -> None:
    plan = await api.post(PLANS, "n-head", plan_body(await new_activity(api)))
    path = f"{PLANS}/{plan['id']}"
    assert (await api.patch(path, "n-head", {"status": "baseline_captured"}))["status"] == (
        "baseline_captured"
    )
    # A point not collected may be skipped forwards ...
    assert (await api.patch(path, "n-head", {"status": "medium_term_captured"}))["status"] == (
        "medium_term_captured"
    )
    # ... never back.
    await api.patch(path, "n-head", {"status": "short_term_captured"}, expect=409)
    await api.patch(path, "n-head", {"status": "planned", "title": "Back"}, expect=409)
    await api.patch(path, "n-head", {"status": "finished"}, expect=422)
    await api.patch(path, "n-head", {"status": None}, expect=422)
    stored = await api.get(path, "n-head")
    assert stored["status"] == "medium_term_captured" and stored["title"] == plan["title"]
    assert (await api.patch(path, "n-head", {"status": "reported"}))["status"] == "reported"
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(EvaluationPlan.status)) == "reported"


async def test_one_plan_per_activity(demo: Stack, api: Api) -> None:
    a, b, c = [await new_activity(api) for _ in range(3)]
    # A programme: two activities share one plan.
    programme = await api.post(PLANS, "n-head", plan_body(a, b))
    assert sorted(programme["activity_ids"]) == sorted([a, b])
    clash = await api.post(PLANS, "n-head", plan_body(b, c), expect=409)
    assert clash["type"].endswith("activity-already-planned")
    other = await api.post(PLANS, "n-head", plan_body(c))
    await api.patch(f"{PLANS}/{other['id']}", "n-head", {"activity_ids": [c, a]}, expect=409)
    # Moving an activity out of a plan frees it for another.
    await api.patch(f"{PLANS}/{programme['id']}", "n-head", {"activity_ids": [a]})
    moved = await api.patch(f"{PLANS}/{other['id']}", "n-head", {"activity_ids": [c, b]})
    assert sorted(moved["activity_ids"]) == sorted([b, c])
    assert (await api.get(PLANS, "n-head", params={"activity_id": b}))["items"][0]["id"] == (
        other["id"]
    )

    # Concurrent plans for one activity: exactly one wins, the others get a clear 409.
    d = await new_activity(api)
    results = await asyncio.gather(
        *(
            api.call("POST", PLANS, who, json=plan_body(d, title=f"Plan {i}"), expect=None)
            for i, who in enumerate(["n-head", "admin", "n-head", "admin"])
        )
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409, 409, 409], [r.text for r in results]
    assert all(
        r.json()["type"].endswith("activity-already-planned")
        for r in results
        if r.status_code == 409
    )
    async with demo.session("evaluation") as session:
        links = (
            await session.scalars(
                select(EvaluationPlanActivity.plan_id).where(
                    EvaluationPlanActivity.activity_id == d
                )
            )
        ).all()
        assert len(links) == 1
        assert await session.scalar(select(func.count()).select_from(EvaluationPlan)) == 3
    # An unknown activity is a 422, not a 409 or 500.
    await api.post(PLANS, "n-head", plan_body("00000000-0000-0000-0000-000000000001"), expect=422)


async def test_roles_and_other_trusts(demo: Stack, api: Api) -> None:
    aid = await new_activity(api)
    plan = await api.post(PLANS, "n-head", plan_body(aid))
    path = f"{PLANS}/{plan['id']}"

    # Governors of the school read; they do not write.
    assert (await api.get(path, "n-gov"))["id"] == plan["id"]
    assert [p["id"] for p in (await api.get(PLANS, "n-gov"))["items"]] == [plan["id"]]
    await api.post(PLANS, "n-gov", plan_body(await new_activity(api)), expect=403)
    await api.call(
        "PATCH", path, "n-gov", json={"title": "x"}, headers={"If-Match": "*"}, expect=403
    )
    await api.call("DELETE", path, "n-gov", headers={"If-Match": "*"}, expect=403)

    # Trust admins write every plan of the trust.
    assert (await api.patch(path, "admin", {"reported_to": "Trust board"}))["reported_to"] == (
        "Trust board"
    )

    # Staff never see plans.
    await api.call("GET", PLANS, "n-t1", expect=403)
    await api.call("GET", path, "n-t1", expect=403)

    # Another school's leader and governor: as if it did not exist; nor may that leader put
    # this school's activity under a plan.
    for who in ("s-head", "s-gov"):
        await api.call("GET", path, who, expect=404)
        assert (await api.get(PLANS, who))["items"] == []
    await api.call(
        "PATCH", path, "s-head", json={"title": "x"}, headers={"If-Match": "*"}, expect=404
    )
    other_school = await api.post(PLANS, "s-head", plan_body(await new_activity(api)), expect=422)
    assert "school you lead" in other_school["errors"][0]["msg"]

    # Another trust: 404 everywhere, and its activities are unknown here.
    await api.call("GET", path, "r-admin", expect=404)
    await api.call(
        "PATCH", path, "r-admin", json={"title": "x"}, headers={"If-Match": "*"}, expect=404
    )
    await api.call("DELETE", path, "r-admin", headers={"If-Match": "*"}, expect=404)
    assert (await api.get(PLANS, "r-admin"))["items"] == []
    await api.post(PLANS, "r-admin", plan_body(await new_activity(api)), expect=422)
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(EvaluationPlan.title)) == plan["title"]
