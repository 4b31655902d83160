"""Evidence by level, organisational support and value for money of an evaluation plan:
aggregates that keep the feedback release rules, costs checked against sums computed here,
and who may read and write each."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from cpd_evaluation.models.evidence import SupportRecord
from cpd_local.stack import Stack

from .conftest import Api, person_id
from .test_evaluation_plans import PLANS, plan_body

TEACHERS = ["n-t1", "n-t2", "n-t3", "n-t4", "n-t5", "n-t6"]
SETTINGS = "/v1/evaluation-settings"


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def answer(relevance: int, quality: int, impact: int) -> dict[str, Any]:
    return {"relevance": relevance, "quality": quality, "expected_impact": impact}


async def course(api: Api, people: dict[str, str | None], **fields: Any) -> str:
    """A course held over the last fortnight; ``people`` maps a teacher to their hours."""
    body: dict[str, Any] = {
        "sessions": [
            {"title": "Day 1", "held_on": days(-14), "duration_minutes": 360},
            {"title": "Day 2", "held_on": days(-1), "duration_minutes": 360},
        ],
        **fields,
    }
    aid = str((await api.create_activity(**body))["id"])
    for who, hours in people.items():
        extra = {"hours": hours} if hours is not None else {}
        await api.add(aid, "n-head", who, **extra)
    return aid


async def close_feedback(api: Api, aid: str) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await api.put(f"/{aid}/feedback-window", "n-head", {"closes_at": past})


async def test_reactions_respect_the_feedback_release_rules(demo: Stack, api: Api) -> None:
    big = await course(api, dict.fromkeys(TEACHERS))
    small = await course(api, dict.fromkeys(["n-t1", "n-t2", "n-t3"]))
    plan = await api.post(PLANS, "n-head", plan_body(big, small))
    path = f"{PLANS}/{plan['id']}/evidence"
    scores = [(5, 4, 3), (4, 4, 4), (3, 5, 4), (5, 5, 5), (4, 3, 2)]
    for who, s in zip(TEACHERS, scores, strict=False):
        await api.post(f"/{big}/feedback", who, answer(*s))
    for who in ("n-t1", "n-t2"):
        await api.post(f"/{small}/feedback", who, answer(1, 1, 1))

    # While the windows are open: counts only, nothing combined.
    open_ = (await api.get(path, "n-head"))["reactions"]
    assert [(a["responses"], a["released"], a["relevance"]) for a in open_["activities"]] == [
        (5, False, None),
        (2, False, None),
    ]
    assert open_["released_activities"] == 0 and open_["relevance"] is None

    await close_feedback(api, big)
    await close_feedback(api, small)
    closed = (await api.get(path, "n-head"))["reactions"]
    by_id = {a["activity_id"]: a for a in closed["activities"]}
    # The small course stays withheld (2 < 5); the big one is released.
    assert by_id[small]["released"] is False and by_id[small]["quality"] is None
    assert "at least 5" in by_id[small]["withheld_reason"]
    assert by_id[big]["released"] is True
    # Combined means come from released activities only: the small course's 1s are not in it.
    expected = [round(sum(s[i] for s in scores) / len(scores), 2) for i in range(3)]
    assert closed["responses"] == 5 and closed["released_activities"] == 1
    assert [closed["relevance"], closed["quality"], closed["expected_impact"]] == expected
    assert [by_id[big]["relevance"], by_id[big]["quality"], by_id[big]["expected_impact"]] == (
        expected
    )


async def test_levels_two_to_four_are_counts(demo: Stack, api: Api) -> None:
    training = await course(
        api,
        dict.fromkeys(["n-t1", "n-t2", "n-t3"]),
        gap_task="Try the questions with one class.",
        gap_task_due_on=days(-2),
        intent="Pupils explain their reasoning.",
    )
    await api.add(training, "n-head", "n-t4", role="facilitator")
    coaching = str(
        (
            await api.create_activity(
                title="Coaching", kind="coaching", subject_specific=False, subject=None
            )
        )["id"]
    )
    await api.add(coaching, "n-head", "n-t6", role="coach")
    await api.add(coaching, "n-head", "n-t5", role="coachee")
    await api.post(
        f"/{coaching}/coaching-agreement",
        "n-t6",
        {
            "coach_id": person_id("n-t6"),
            "coachee_id": person_id("n-t5"),
            "agreed_outcomes": "Shorter explanations",
        },
    )
    for held, evidence, impact in (
        (days(-20), ["video"], None),
        (days(-10), [], "Pupils started sooner"),
        (days(-3), ["observation", "pupil_work"], "Fewer questions"),
    ):
        await api.post(
            f"/{coaching}/sessions",
            "n-t6",
            {
                "held_on": held,
                "minutes": 45,
                "focus": "Explanations",
                "evidence": evidence,
                "impact_noted": impact,
            },
        )
    parts = (await api.get(f"/{training}/participants", "n-head"))["items"]
    t1 = next(p for p in parts if p["person_id"] == person_id("n-t1"))
    await api.put(
        f"/{training}/participants/{t1['id']}/impact-report",
        "n-t1",
        {"report": "Pupils explain more.", "gap_task_done_on": days(-3)},
    )
    entry = {"tried": "Wait time", "pupil_effect": "More hands up"}
    await api.post(f"/{training}/reflections", "n-t1", {**entry, "shared_as_evidence": True})
    await api.post(f"/{training}/reflections", "n-t2", {"tried": "Wait time"})
    await api.post(
        f"/{training}/reflections", "n-t3", {"next_steps": "Try it", "shared_as_evidence": True}
    )
    plan = await api.post(PLANS, "n-head", plan_body(training, coaching))
    pid = plan["id"]

    await api.post(
        f"{PLANS}/{pid}/support",
        "n-head",
        {"hours_given": "6", "resources": "Release for planning", "recorded_on": days(-7)},
    )
    await api.post(
        f"{PLANS}/{pid}/support", "admin", {"hours_given": "1.5", "barriers": "Mocks week"}
    )
    ev = await api.get(f"{PLANS}/{pid}/evidence", "n-head")
    assert ev["learning"] == {
        "shared_as_evidence": 2,
        "shared_noting_pupil_effect": 1,
        "private": 1,
        "staff_measures": [],
    }
    assert ev["organisational_support"] == {
        "records": 2,
        "hours_given": 7.5,
        "resources": ["Release for planning"],
        "barriers": ["Mocks week"],
    }
    use = ev["use_of_knowledge_and_skills"]
    # Delegates: three on the course and the coach and coachee; the facilitator is not one.
    assert (use["delegates"], use["gap_tasks_set"], use["gap_tasks_done"]) == (5, 3, 1)
    assert use["impact_reports"] == 1
    assert use["coaching"] == {
        "pairs": 1,
        "sessions": 3,
        "hours": 2.25,
        "sessions_reviewing_evidence": 2,
        "sessions_noting_impact": 2,
    }
    assert ev["levels_planned"] == plan["levels"]
    # Nothing of what anyone wrote in their journal or log appears.
    text = str(ev)
    assert "Wait time" not in text and "Fewer questions" not in text


async def test_support_records_are_written_by_leaders(demo: Stack, api: Api) -> None:
    aid = str((await api.create_activity())["id"])
    plan = await api.post(PLANS, "n-head", plan_body(aid))
    base = f"{PLANS}/{plan['id']}/support"
    resp = await api.call(
        "POST",
        base,
        "n-head",
        json={"hours_given": "3.5", "resources": "Cover for two afternoons"},
        headers={"Idempotency-Key": "support-1"},
        expect=201,
    )
    record = resp.json()
    assert resp.headers["location"] == f"{base}/{record['id']}"
    assert record["hours_given"] == 3.5 and record["recorded_on"] == date.today().isoformat()
    assert record["evaluation_id"] == plan["id"] and record["recorded_by"] == person_id("n-head")
    await api.call(
        "POST",
        base,
        "n-head",
        json={"hours_given": "3.5", "resources": "Cover for two afternoons"},
        headers={"Idempotency-Key": "support-1"},
        expect=201,
    )
    path = f"{base}/{record['id']}"
    await api.post(base, "n-head", {}, expect=422)
    await api.post(base, "n-head", {"hours_given": "-1"}, expect=422)
    await api.post(base, "n-head", {"notes": "x", "colour": "red"}, expect=422)
    changed = await api.patch(path, "n-head", {"barriers": "Staff absence", "resources": None})
    assert (changed["barriers"], changed["resources"]) == ("Staff absence", None)
    await api.patch(path, "n-head", {"barriers": None, "hours_given": None}, expect=422)
    await api.call("PATCH", path, "n-head", json={"notes": "x"}, expect=428)
    assert [r["id"] for r in (await api.get(base, "n-head"))["items"]] == [record["id"]]

    # Governors read the report, not the records; staff never; other schools and trusts 404.
    for who in ("n-gov", "n-t1"):
        await api.call("GET", base, who, expect=403)
        await api.call("POST", base, who, json={"notes": "x"}, expect=403)
    for who in ("s-head", "r-admin"):
        await api.call("GET", base, who, expect=404)
        await api.call("GET", path, who, expect=404)
        await api.call("POST", base, who, json={"notes": "x"}, expect=404)
        await api.call("DELETE", path, who, headers={"If-Match": "*"}, expect=404)
    await api.call("GET", f"{base}/{plan['id']}", "n-head", expect=404)
    await api.delete(path, "n-head")
    async with demo.session("evaluation") as session:
        assert (await session.scalars(select(SupportRecord))).all() == []


async def test_value_for_money_against_sums_computed_here(demo: Stack, api: Api) -> None:
    await api.call("GET", SETTINGS, "n-t1", expect=403)
    unset = await api.get(SETTINGS, "n-head")
    assert unset["hourly_staff_cost"] is None and unset["currency"] == "GBP"
    await api.put(SETTINGS, "n-head", {"hourly_staff_cost": "40"}, expect=403)
    await api.put(SETTINGS, "admin", {"hourly_staff_cost": "-1"}, expect=422)

    a_hours = {"n-t1": "6.5", "n-t2": "12", "n-t3": "3.25"}
    b_hours = {"n-t4": "10", "n-t5": "7"}
    a = await course(
        api,
        a_hours,
        costs={"fees": "450.00", "materials": "20", "supply_cover": "360"},
    )
    await api.add(a, "n-head", "n-t6", role="facilitator", hours="12")
    b = await course(api, b_hours, costs={"fees": "1200", "materials": "0", "supply_cover": "95.5"})
    cancelled = await course(api, {"n-t6": "4"}, costs={"fees": "999"})
    plan = await api.post(PLANS, "n-head", plan_body(a, b, cancelled, pupils_reached=150))
    # Cancelled after it was put under the plan: it stays there and counts nothing.
    await api.post(f"/{cancelled}/cancel", "n-head", None, expect=200)
    path = f"{PLANS}/{plan['id']}"

    direct = Decimal("450") + Decimal("20") + Decimal("360") + Decimal("1200") + Decimal("95.5")
    hours = sum(Decimal(h) for h in [*a_hours.values(), *b_hours.values()])
    value = await api.get(f"{path}/value", "n-head")
    assert value["costs"] == {
        "fees": 1650.0,
        "materials": 20.0,
        "supply_cover": 455.5,
        "direct": float(direct),
        "participant_hours": float(hours),
        "hourly_staff_cost": None,
        "staff_time": None,
        "total": float(direct),
        "includes_staff_time": False,
    }
    assert any("hourly staff cost" in n for n in value["notes"])
    assert any("1 cancelled activity" in n for n in value["notes"])

    settings = await api.put(SETTINGS, "admin", {"hourly_staff_cost": "38.50"})
    assert settings["hourly_staff_cost"] == 38.5
    value = await api.get(f"{path}/value", "n-head")
    staff = hours * Decimal("38.50")
    total = direct + staff
    cent = Decimal("0.01")
    assert value["costs"]["staff_time"] == float(staff.quantize(cent))
    assert value["costs"]["total"] == float(total.quantize(cent))
    assert value["costs"]["includes_staff_time"] is True
    assert (value["activities"], value["participants"], value["pupils_reached"]) == (2, 5, 150)
    assert value["per_participant"] == float((total / 5).quantize(cent))
    assert value["per_participant_hour"] == float((total / hours).quantize(cent))
    assert value["per_pupil"] == float((total / 150).quantize(cent))
    assert value["effects"] == [] and value["effects_reason"]

    # Without pupils reached there is no per-pupil figure, and it says why.
    unknown = await api.patch(path, "n-head", {"pupils_reached": None})
    assert unknown["pupils_reached"] is None
    value = await api.get(f"{path}/value", "n-head")
    assert value["per_pupil"] is None and any("pupils_reached" in n for n in value["notes"])

    await api.call("GET", f"{path}/value", "n-gov", expect=403)
    await api.call("GET", f"{path}/evidence", "n-gov", expect=403)
    for who in ("s-head", "r-admin"):
        await api.call("GET", f"{path}/value", who, expect=404)
        await api.call("GET", f"{path}/evidence", who, expect=404)
    # Another trust's setting is its own.
    assert (await api.get(SETTINGS, "r-admin"))["hourly_staff_cost"] is None
