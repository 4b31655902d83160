"""The demo CPD year (``make up``): seeded through the service functions beside the demo
lesson studies, every endpoint of the evaluation service shows something."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cpd_demo.trust import NORTHFIELD
from cpd_evaluation import demo as evaluation_demo
from cpd_evaluation.models import Activity
from cpd_local.stack import Stack

from .conftest import Api
from .demos import evaluation_demo_seeded, lesson_studies_arrived


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """The demo year sits beside the demo lesson studies, which arrive by their events."""
    return ("gateway", "lessonstudy", "evaluation")


async def test_demo_year_reads_back_through_the_api(demo: Stack, api: Api) -> None:
    await lesson_studies_arrived(demo)
    await evaluation_demo_seeded(demo)
    async with demo.session("evaluation") as session:  # a second run changes nothing
        before = await session.scalar(select(func.count()).select_from(Activity))
        await evaluation_demo.seed_demo(session)
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(Activity)) == before

    activities = {a["title"]: a for a in (await api.get("?limit=200", "admin"))["items"]}
    kinds = {a["kind"] for a in activities.values()}
    assert {"course", "inset", "coaching", "mentoring", "peer_coaching", "lesson_study"} <= kinds
    maths = activities["Mastery in maths: reasoning with representations"]
    assert maths["sustained"]["pattern"] == "sustained" and maths["gap_task"]
    inset = activities["INSET: routines for calm classrooms"]

    released = await api.get(f"/{maths['id']}/feedback", "n-head")
    assert released["released"] is True and released["responses"] == 5
    assert (await api.get(f"/{inset['id']}/feedback", "admin"))["responses"] == 7
    writing = activities["Teaching writing with worked examples"]
    open_ = await api.get(f"/{writing['id']}/feedback", "s-head")
    assert open_["status"] == "open" and open_["responses"] == 1
    assert (await api.get(f"/{maths['id']}/feedback/mine", "n-t1"))["relevance"] == 5

    counts = await api.get(f"/{maths['id']}/reflections/counts", "n-head")
    assert counts == {"activity_id": maths["id"], "private": 1, "shared_as_evidence": 1}
    # The leader reads the shared evidence; the deputy also the entry Sam shares with him.
    assert len((await api.get(f"/{maths['id']}/reflections", "n-head"))["items"]) == 1
    assert len((await api.get(f"/{maths['id']}/reflections", "n-deputy"))["items"]) == 2

    coaching = activities["Coaching: questioning in Year 4"]
    cadence = await api.get(f"/{coaching['id']}/coaching", "n-head")
    assert cadence["sessions"] == 3 and cadence["agreement_in_place"] is True
    assert len((await api.get(f"/{coaching['id']}/sessions", "n-t2"))["items"]) == 3
    await api.call("GET", f"/{coaching['id']}/sessions", "n-head", expect=404)

    providers = (await api.get("/v1/providers", "n-t1"))["items"]
    assert len(providers) == 3
    hub = next(p for p in providers if p["kind"] == "teaching_school_hub")
    summary = await api.get(f"/v1/providers/{hub['id']}/summary", "admin")
    assert summary["activities"] == 1 and summary["feedback"]["released"] is True
    assert summary["cost_per_participant_hour"] is not None

    follow = await api.get("/v1/follow-ups", "n-t2")
    assert {i["kind"] for i in follow["items"]} >= {"gap_task", "impact_report", "coaching_session"}
    assert any(s["gap_task"] for s in (await api.get("/v1/follow-ups", "n-head"))["schools"])

    trust = await api.get("/v1/dashboards/trust", "admin")
    assert trust["people"]["staff_covered"] >= 5 and trust["hours"]["total_hours"] > 0
    assert trust["coaching"]["pairs"] == 3 and trust["coaching"]["sessions"] == 9
    # The fractions study agreed its findings; the writing study is in its second cycle.
    assert trust["activities"]["lesson_studies_completed"] == 1
    assert trust["activities"]["lesson_studies_running"] == 1
    school = await api.get(f"/v1/dashboards/schools/{NORTHFIELD}", "n-gov")
    assert school["activities"]["activities"] > 0


async def test_demo_offer_reads_back(demo: Stack, api: Api) -> None:
    await evaluation_demo_seeded(demo)
    offer = (await api.get("/v1/programmes?limit=200", "n-t2"))["items"]
    assert len(offer) >= 10
    ladder = {s["key"] for s in (await api.get("/v1/career-stages", "n-t2"))["items"]}
    assert {k for p in offer for k in p["stage_keys"]} == ladder
    mine = await api.get("/v1/programmes?for_my_stage=true", "n-t2")
    assert any(p["title"].startswith("Early-career") for p in mine["items"])
    statuses = {
        q["status"] for q in (await api.get("/v1/cpd-requests?limit=200", "admin"))["items"]
    }
    assert statuses == {"submitted", "approved", "declined", "cancelled"}
    assert len((await api.get("/v1/cpd-requests?awaiting_me=true", "s-head"))["items"]) == 2
    assert len((await api.get("/v1/cpd-requests?awaiting_me=true", "admin"))["items"]) == 4
    budgets = await api.get("/v1/budgets", "admin")
    assert all(s["amount"] is not None for s in budgets["schools"])
    assert float(budgets["committed"]) > 0
    calendar = await api.get("/v1/calendar?scope=trust", "n-t1")
    assert len(calendar["entries"]) >= 15
