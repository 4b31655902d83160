"""Dashboards: figures checked against values computed here from the demo directory; figures
from fewer than 5 people withheld; who may read which dashboard."""

from __future__ import annotations

import statistics
from datetime import date

from cpd_demo.trust import NORTHFIELD, PEOPLE, SOUTHBANK
from cpd_evaluation.records.years import AcademicYear
from cpd_local.stack import Stack

from .conftest import Api, person_id

YEAR = AcademicYear.containing(date.today())


def on(month: int, day: int) -> str:
    first = YEAR.first if month >= 9 else YEAR.first + 1
    return date(first, month, day).isoformat()


def staff_of(school: object) -> list:  # type: ignore[type-arg]
    return [p for p in PEOPLE if school in p.school_ids and "staff" in p.roles and p.fte > 0]


async def test_school_and_trust_figures(demo: Stack, api: Api) -> None:
    course = await api.create_activity(
        sessions=[
            {"title": "Day 1", "held_on": on(9, 10), "duration_minutes": 360},
            {"title": "Day 2", "held_on": on(11, 20), "duration_minutes": 360},
        ]
    )
    course_hours = {"n-t1": 36, "n-t2": 10, "n-t3": 10, "n-t4": 10, "n-ta1": 8}
    for who, h in course_hours.items():
        await api.add(course["id"], "n-head", who, hours=str(h))
    inset = await api.create_activity(
        title="INSET: behaviour for learning",
        kind="inset",
        subject_specific=False,
        subject=None,
        sessions=[{"title": "INSET", "held_on": on(9, 1), "duration_minutes": 300}],
        costs={"fees": "200"},
    )
    inset_people = ["n-t1", "n-t5", "n-t6", "n-t7", "n-ta2"]
    for who in inset_people:
        await api.add(inset["id"], "n-head", who, hours="5")
    # Last year's activity counts in last year only.
    await api.create_activity(
        sessions=[
            {
                "title": "Old",
                "held_on": date(YEAR.first - 1, 10, 1).isoformat(),
                "duration_minutes": 60,
            }
        ]
    )

    north = await api.get(f"/v1/dashboards/schools/{NORTHFIELD}?year={YEAR.name}", "n-head")
    staff = staff_of(NORTHFIELD)
    hours = {p.key: course_hours.get(p.key, 0) + (5 if p.key in inset_people else 0) for p in staff}
    per_fte = sorted(hours[p.key] / p.fte for p in staff)
    q1, q2, q3 = statistics.quantiles(per_fte, n=4, method="inclusive")
    fte = sum(p.fte for p in staff)
    people = north["people"]
    assert people["staff"] == len(staff) and people["fte"] == round(fte, 2)
    assert people["staff_covered"] == sum(1 for h in hours.values() if h > 0) == 9
    assert people["hours_per_fte"] == {
        "lower_quartile": round(q1, 2),
        "median": round(q2, 2),
        "upper_quartile": round(q3, 2),
    }
    # Only Jess reaches 35 hours (everyone started before the year; the TAs' targets are
    # pro-rated by FTE: 8 hours at 0.8 FTE is still short of 28).
    assert people["meeting_entitlement_share"] == round(1 / len(staff), 4)
    total = sum(hours.values())
    assert north["hours"]["total_hours"] == total
    assert north["hours"]["subject_specific_share"] == round(sum(course_hours.values()) / total, 4)
    assert north["hours"]["meets_subject_aim"] is True
    assert north["hours"]["sustained_share"] == round(sum(course_hours.values()) / total, 4)
    assert north["spend"] == {
        "total": 1030.0,
        "per_fte": round(1030 / fte, 2),
        "withheld_reason": None,
    }
    assert north["activities"]["by_kind"] == [
        {"kind": "course", "activities": 1},
        {"kind": "inset", "activities": 1},
    ]
    assert north["coaching"]["pairs"] == 0 and north["coaching"]["withheld_reason"]

    trust = await api.get(f"/v1/dashboards/trust?year={YEAR.name}", "admin")
    assert [s["school_id"] for s in trust["schools"]] == [str(NORTHFIELD), str(SOUTHBANK)]
    assert trust["schools"][0]["people"] == people
    everyone = {p.key for p in staff_of(NORTHFIELD) + staff_of(SOUTHBANK)}
    assert trust["people"]["staff"] == len(everyone)  # the admin of both schools counts once
    assert trust["hours"]["total_hours"] == total
    # Southbank staff had no CPD: the shares of their hours are withheld, with the reason.
    south = trust["schools"][1]
    assert south["people"]["staff_covered"] == 0
    assert south["hours"]["total_hours"] is None
    assert "Fewer than 5" in south["hours"]["withheld_reason"]


async def test_withheld_below_five_people(api: Api) -> None:
    course = await api.create_activity(
        "admin",
        school_ids=[str(SOUTHBANK)],
        sessions=[{"title": "Day", "held_on": on(10, 1), "duration_minutes": 60}],
    )
    for who in ["s-t1", "s-t2", "s-t3", "s-t4"]:
        await api.add(course["id"], "admin", who, hours="6")
    path = f"/v1/dashboards/schools/{SOUTHBANK}?year={YEAR.name}"
    four = await api.get(path, "admin")
    assert four["hours"]["total_hours"] is None and four["hours"]["withheld_reason"]
    await api.add(course["id"], "admin", "s-t5", hours="6")
    five = await api.get(path, "admin")
    assert five["hours"]["total_hours"] == 30.0 and five["hours"]["withheld_reason"] is None
    # Coaching: one pair is two people; the cadence is withheld.
    coaching = await api.create_activity(
        "admin",
        title="Coaching",
        kind="coaching",
        school_ids=[str(SOUTHBANK)],
        subject_specific=False,
        subject=None,
        sessions=[],
    )
    await api.add(coaching["id"], "admin", "s-t1", role="coach")
    await api.add(coaching["id"], "admin", "s-t2", role="coachee")
    pair = {"coach_id": person_id("s-t1"), "coachee_id": person_id("s-t2"), "agreed_outcomes": "x"}
    await api.post(f"/{coaching['id']}/coaching-agreement", "s-t1", pair)
    await api.post(
        f"/{coaching['id']}/sessions",
        "s-t1",
        {"held_on": on(10, 2), "minutes": 30, "focus": "Routines"},
    )
    figures = (await api.get(path, "admin"))["coaching"]
    assert figures["pairs"] == 1 and figures["sessions"] is None
    assert "Fewer than 5" in figures["withheld_reason"]


async def test_who_reads_which_dashboard(api: Api) -> None:
    north, south = f"/v1/dashboards/schools/{NORTHFIELD}", f"/v1/dashboards/schools/{SOUTHBANK}"
    for who in ("n-head", "n-gov", "admin"):
        await api.get(north, who)
    for who in ("n-head", "n-gov", "r-admin"):
        await api.call("GET", south if who != "r-admin" else north, who, expect=404)
    await api.get(south, "s-gov")
    for who in ("n-t1",):
        await api.call("GET", north, who, expect=403)
        await api.call("GET", "/v1/dashboards/trust", who, expect=403)
    await api.call("GET", "/v1/dashboards/trust", "n-head", expect=403)
    await api.call("GET", "/v1/dashboards/trust", "n-gov", expect=403)
    theirs = await api.get("/v1/dashboards/trust", "r-admin")
    assert [s["name"] for s in theirs["schools"]] == ["Riverside High"]
    resp = await api.call("GET", "/v1/dashboards/trust?year=2025-2026", "admin", expect=422)
    assert resp.json()["errors"][0]["loc"] == "query.year"
    await api.call("GET", "/v1/dashboards/trust?year=2025-27", "admin", expect=422)
    await api.call("GET", "/v1/dashboards/trust?year=9999-00", "admin", expect=422)
