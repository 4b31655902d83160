"""Evaluation plans across schools and over time: who may change which activities a plan
covers, plans whose activity was deleted, cancelled activities, due dates told as follow-ups,
and the ``evaluation.reported`` event."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, SOUTHBANK
from cpd_evaluation.follow_ups.service import announce_due
from cpd_evaluation.models.plans import EvaluationPlan, EvaluationPlanActivity
from cpd_local.stack import Stack

from .conftest import Api, outbox, person_id
from .test_evaluation_plans import PLANS, new_activity, plan_body


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


async def southbank_activity(api: Api) -> str:
    made = await api.create_activity("s-head", school_ids=[str(SOUTHBANK)])
    return str(made["id"])


async def stored_activities(stack: Stack, plan_id: str) -> list[str]:
    async with stack.session("evaluation") as session:
        rows = await session.scalars(
            select(EvaluationPlanActivity.activity_id)
            .where(EvaluationPlanActivity.plan_id == plan_id)
            .order_by(EvaluationPlanActivity.activity_id)
        )
        return [str(a) for a in rows]


async def test_a_leader_changes_only_the_activities_of_their_schools(demo: Stack, api: Api) -> None:
    north, south = await new_activity(api), await southbank_activity(api)
    programme = await api.post(PLANS, "admin", plan_body(north, south))
    path = f"{PLANS}/{programme['id']}"
    assert programme["school_ids"] == sorted([str(NORTHFIELD), str(SOUTHBANK)])

    # Northfield's head may not take Southbank's activity out of the programme's plan ...
    refused = await api.patch(path, "n-head", {"activity_ids": [north]}, expect=403)
    assert refused["type"].endswith("evaluation-plan-read-only")
    assert refused["errors"] == [
        {"loc": "body.activity_ids", "msg": f"activity {south} is of a school you do not lead"}
    ]
    # ... nor swap it for one of their own, nor delete the whole plan.
    extra = await new_activity(api)
    await api.patch(path, "n-head", {"activity_ids": [north, extra]}, expect=403)
    await api.delete(path, "n-head", expect=403)
    assert await stored_activities(demo, programme["id"]) == sorted([north, south])

    # Adding their own activity and taking it out again leaves Southbank's alone: allowed.
    added = await api.patch(path, "n-head", {"activity_ids": [north, south, extra]})
    assert sorted(added["activity_ids"]) == sorted([north, south, extra])
    back = await api.patch(path, "n-head", {"activity_ids": [south, north]})
    assert sorted(back["activity_ids"]) == sorted([north, south])
    # Southbank's head likewise cannot remove Northfield's activity; they may edit the rest.
    await api.patch(path, "s-head", {"activity_ids": [south]}, expect=403)
    assert (await api.patch(path, "s-head", {"title": "Reasoning across the trust"}))[
        "title"
    ] == "Reasoning across the trust"
    assert await stored_activities(demo, programme["id"]) == sorted([north, south])

    # A trust admin manages every activity: the plan narrows to one school, and leaves the
    # other school's view.
    narrowed = await api.patch(path, "admin", {"activity_ids": [north]})
    assert narrowed["school_ids"] == [str(NORTHFIELD)]
    await api.call("GET", path, "s-head", expect=404)
    # Now wholly Northfield's, its head may delete it.
    await api.delete(path, "n-head")


async def test_a_plan_whose_only_activity_was_deleted_stays_with_its_school(
    demo: Stack, api: Api
) -> None:
    aid = await new_activity(api)
    plan = await api.post(PLANS, "n-head", plan_body(aid))
    path = f"{PLANS}/{plan['id']}"
    await api.delete(f"/{aid}", "n-head")

    for who in ("n-head", "n-gov", "admin"):
        seen = await api.get(path, who)
        assert seen["activity_ids"] == [] and seen["school_ids"] == [str(NORTHFIELD)]
        assert [p["id"] for p in (await api.get(PLANS, who))["items"]] == [plan["id"]]
    for who in ("s-head", "s-gov", "r-admin"):
        await api.call("GET", path, who, expect=404)
    # Its leader can still put a new activity under it, or delete it.
    replacement = await new_activity(api)
    assert (await api.patch(path, "n-head", {"activity_ids": [replacement]}))["activity_ids"] == [
        replacement
    ]
    await api.call("PATCH", path, "s-head", json={}, headers={"If-Match": "*"}, expect=404)
    await api.delete(path, "n-head")


async def test_a_cancelled_activity_cannot_be_put_under_a_plan(demo: Stack, api: Api) -> None:
    cancelled = await new_activity(api)
    await api.post(f"/{cancelled}/cancel", "n-head", {"reason": "Trainer ill"}, expect=200)
    refused = await api.post(PLANS, "n-head", plan_body(cancelled), expect=409)
    assert refused["type"].endswith("activity-cancelled")
    assert refused["errors"] == [{"loc": "body.activity_ids.0", "msg": "cancelled activity"}]
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(EvaluationPlan.id)) is None

    live = await new_activity(api)
    plan = await api.post(PLANS, "n-head", plan_body(live))
    path = f"{PLANS}/{plan['id']}"
    await api.patch(path, "n-head", {"activity_ids": [live, cancelled]}, expect=409)
    assert await stored_activities(demo, plan["id"]) == [live]
    # An activity cancelled once under a plan stays there as a record; the plan still changes.
    await api.post(f"/{live}/cancel", "n-head", None, expect=200)
    assert (await api.patch(path, "n-head", {"title": "Kept as a record"}))["activity_ids"] == [
        live
    ]


async def test_due_data_points_become_follow_ups_told_once(demo: Stack, api: Api) -> None:
    aid = await new_activity(api)
    due = {
        "baseline": days(-10),
        "short_term": days(-3),
        "medium_term": days(30),
        "report": days(60),
    }
    plan = await api.post(
        PLANS, "n-head", plan_body(aid, due=due, responsible_id=person_id("n-deputy"))
    )
    assert plan["responsible_id"] == person_id("n-deputy")
    pid = plan["id"]
    path = f"{PLANS}/{pid}"
    await api.post(
        PLANS,
        "n-head",
        plan_body(await new_activity(api), responsible_id="00000000-0000-0000-0000-000000000009"),
        expect=422,
    )

    deputy = (await api.get("/v1/follow-ups", "n-deputy"))["items"]
    assert [(i["kind"], i["due_on"], i["overdue"]) for i in deputy] == [
        ("evaluation_baseline", days(-10), True),
        ("evaluation_short_term", days(-3), True),
        ("evaluation_medium_term", days(30), False),
        ("evaluation_report", days(60), False),
    ]
    assert {(i["item_id"], i["evaluation_id"], i["evaluation_title"]) for i in deputy} == {
        (pid, pid, plan["title"])
    }
    assert {i["activity_id"] for i in deputy} == {None}
    # The baseline is captured: it is no longer due.
    await api.patch(path, "n-head", {"status": "baseline_captured"})
    deputy = (await api.get("/v1/follow-ups", "n-deputy"))["items"]
    assert [i["kind"] for i in deputy] == [
        "evaluation_short_term",
        "evaluation_medium_term",
        "evaluation_report",
    ]
    # Leaders of the plan's school see counts; the other school none.
    [north] = (await api.get("/v1/follow-ups", "n-head"))["schools"]
    assert (north["evaluation_baseline"], north["evaluation_short_term"]) == (0, 1)
    assert (north["evaluation_medium_term"], north["evaluation_report"]) == (1, 1)
    assert north["overdue"] == 1
    [south] = (await api.get("/v1/follow-ups", "s-head"))["schools"]
    assert south["evaluation_short_term"] == 0

    async def run() -> int:
        async with demo.session("evaluation") as session, session.begin():
            return await announce_due(session)

    # Only the short-term point is due and uncaptured: told once, whatever runs concurrently.
    assert sorted(await asyncio.gather(run(), run())) == [0, 1]
    assert await run() == 0
    [told] = await outbox(demo, catalogue.EvaluationDataDue.event_type)
    assert told["subject"] == pid
    assert told["data"] == {
        "trust_id": str(OAKRIDGE),
        "evaluation_id": pid,
        "point": "short_term",
        "school_ids": [str(NORTHFIELD)],
        "person_ids": [person_id("n-deputy")],
        "due_on": days(-3),
    }
    # A plan without a person responsible still tells the school (no one named).
    await api.patch(
        path, "n-head", {"responsible_id": None, "due": {**due, "short_term": days(-2)}}
    )
    assert await run() == 1
    later = (await outbox(demo, catalogue.EvaluationDataDue.event_type))[-1]["data"]
    assert later["person_ids"] == [] and later["due_on"] == days(-2)
    assert (await api.get("/v1/follow-ups", "n-deputy"))["items"] == []


async def test_reaching_reported_publishes_once(demo: Stack, api: Api) -> None:
    north, south = await new_activity(api), await southbank_activity(api)
    plan = await api.post(PLANS, "admin", plan_body(north, south))
    path = f"{PLANS}/{plan['id']}"
    await api.patch(path, "admin", {"status": "medium_term_captured"})
    assert await outbox(demo, catalogue.EvaluationReported.event_type) == []
    reported = await api.patch(path, "admin", {"status": "reported"})
    # Staying at reported (or editing the reported plan) tells nothing more.
    await api.patch(path, "admin", {"status": "reported", "leads_to_action": "Roll out"})
    [event] = await outbox(demo, catalogue.EvaluationReported.event_type)
    assert event["subject"] == plan["id"] and event["type"].endswith("evaluation.reported.v1")
    data = event["data"]
    assert data["evaluation_id"] == plan["id"] and data["title"] == plan["title"]
    assert data["activity_ids"] == sorted([north, south])
    assert data["school_ids"] == sorted([str(NORTHFIELD), str(SOUTHBANK)])
    assert data["levels"] == plan["levels"]
    assert data["reported_at"].startswith(reported["updated_at"][:19])


async def test_erasure_reaches_plans_and_support(demo: Stack, api: Api) -> None:
    erased = PEOPLE_BY_KEY["n-deputy"]
    aid = await new_activity(api)
    plan = await api.post(
        PLANS,
        "n-deputy",
        plan_body(
            aid,
            title=f"Questioning with {erased.name}",
            baseline={"quantitative": [f"{erased.name}'s reasoning test"]},
            medium_term_data={"quantitative": [f"{erased.name}'s reasoning test"]},
            responsible_id=str(erased.id),
        ),
    )
    path = f"{PLANS}/{plan['id']}"
    record = await api.post(
        f"{path}/support", "n-deputy", {"notes": f"{erased.name} ran the twilight session"}
    )
    resp = await demo.gateway.post(
        f"/v1/people/{erased.id}/erase", headers=await api.headers("admin")
    )
    assert resp.status_code == 202, resp.text
    await demo.settle()

    after = await api.get(path, "n-head")
    assert (after["created_by"], after["responsible_id"]) == (None, None)
    assert after["title"] == "Questioning with a former participant"
    assert after["baseline"]["quantitative"] == ["a former participant's reasoning test"]
    assert after["warnings"] == []  # the outcome data still mirrors the baseline
    support = await api.get(f"{path}/support/{record['id']}", "n-head")
    assert support["recorded_by"] is None
    assert support["notes"] == "a former participant ran the twilight session"
    async with demo.session("evaluation") as session:
        stored = await session.get(EvaluationPlan, uuid.UUID(plan["id"]))
        assert stored is not None and erased.name not in str(stored.baseline_data)
