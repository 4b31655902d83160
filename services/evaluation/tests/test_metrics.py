"""QA metrics (``/v1/metrics``): a small school is withheld and cannot be worked out from the
trust total and the other schools; counts are multiples of 5; only QA API clients read them,
each only its own trust's; every pull is in the trust admin's release log; CSV matches JSON."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from sqlalchemy import func, select

from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, PEOPLE, RIVERSIDE, SOUTHBANK
from cpd_evaluation.models.metrics import MetricRelease
from cpd_evaluation.records.years import AcademicYear
from cpd_local.stack import Stack

from .conftest import Api
from .test_evaluation_plans import PLANS, plan_body
from .test_measures import measure_body, pupil

YEAR = AcademicYear.containing(date.today())
COUNTS = ("staff", "staff_covered", "lesson_studies_completed")


def on(month: int, day: int) -> str:
    first = YEAR.first if month >= 9 else YEAR.first + 1
    return date(first, month, day).isoformat()


def staff_keys(school: object) -> list[str]:
    return [p.key for p in PEOPLE if school in p.school_ids and "staff" in p.roles and p.fte > 0]


async def client_headers(stack: Stack, label: str = "QA API client") -> dict[str, str]:
    client_id, secret = DEMO_CREDENTIALS[label]
    return {"Authorization": f"Bearer {await stack.client_token(client_id, secret)}"}


async def new_client(
    stack: Stack, api: Api, admin: str, roles: list[str], scopes: list[str], scope: str = ""
) -> dict[str, str]:
    created = await api.post(
        "/v1/clients", admin, {"name": "Inspection body", "roles": roles, "scopes": scopes}
    )
    token = await stack.client_token(created["client_id"], created["client_secret"], scope or None)
    return {"Authorization": f"Bearer {token}"}


def cells(release: dict[str, Any]) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    """Every figure by (area: 'trust' or school id, metric, principle)."""
    out = {}
    for area in (release["trust"], *release["schools"]):
        key = "trust" if area["area"] == "trust" else area["school_id"]
        for f in area["figures"]:
            out[(key, f["metric"], f["principle"])] = f
    return out


async def small_school(api: Api, size: int = 8) -> tuple[str, list[str]]:
    """A third Oakridge school with ``size`` staff, each with CPD hours this year."""
    school = await api.post(
        "/v1/schools", "admin", {"name": "Westgate Primary", "phase": "primary"}
    )
    people = [
        (
            await api.post(
                "/v1/people",
                "admin",
                {"name": f"Westgate Teacher {i}", "school_ids": [school["id"]], "fte": 1.0},
            )
        )["id"]
        for i in range(size)
    ]
    await api.stack.settle()
    course = await api.create_activity(
        "admin",
        title="Westgate phonics",
        school_ids=[school["id"]],
        sessions=[{"title": "Day", "held_on": on(10, 1), "duration_minutes": 360}],
    )
    for person in people:
        await api.add(course["id"], "admin", person, hours="12")
    return school["id"], people


async def everyone_trained(api: Api) -> dict[str, str]:
    """Every Northfield and Southbank member of staff has CPD hours this year (the course
    of each school, by school id)."""
    courses = {}
    for school, hours in ((NORTHFIELD, "40"), (SOUTHBANK, "20")):
        course = await api.create_activity(
            "admin",
            title=f"Whole-school course {hours}",
            school_ids=[str(school)],
            sessions=[
                {"title": "One", "held_on": on(9, 15), "duration_minutes": 300},
                {"title": "Two", "held_on": on(12, 1), "duration_minutes": 300},
            ],
        )
        for key in staff_keys(school):
            await api.add(course["id"], "admin", key, hours=hours)
        courses[str(school)] = course["id"]
    return courses


async def pull(stack: Stack, headers: dict[str, str], query: str = "", expect: int = 200) -> Any:
    resp = await stack.gateway.get(f"/v1/metrics?academic_year={YEAR.name}{query}", headers=headers)
    assert resp.status_code == expect, resp.text
    return resp


def assert_not_recoverable(release: dict[str, Any]) -> None:
    """In every row (metric and principle) whose trust total is released, the withheld schools
    are none or at least two: total minus the released schools gives only their sum."""
    by_row: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for area in release["schools"]:
        for f in area["figures"]:
            by_row.setdefault((f["metric"], f["principle"]), []).append(f)
    trust = {(f["metric"], f["principle"]): f for f in release["trust"]["figures"]}
    for row, figures in by_row.items():
        if trust[row]["symbol"] is None:
            withheld = [f for f in figures if f["symbol"] == "[c]"]
            assert len(withheld) != 1, (row, figures, trust[row])


async def test_a_school_of_eight_is_withheld_and_cannot_be_recovered(demo: Stack, api: Api) -> None:
    westgate, _ = await small_school(api)
    await everyone_trained(api)
    qa = await client_headers(demo)
    release = (await pull(demo, qa)).json()
    got = cells(release)
    # Schools in name order: Northfield, Southbank, Westgate.
    assert [s["school_id"] for s in release["schools"]] == [
        str(NORTHFIELD),
        str(SOUTHBANK),
        westgate,
    ]

    # Westgate's 8 staff: every figure about them is withheld, with the reason.
    for metric in ("staff", "staff_covered", "hours_per_fte", "meeting_entitlement_share"):
        cell = got[(westgate, metric, None)]
        assert cell["value"] is None and cell["symbol"] == "[c]", cell
        assert "fewer than 10 people" in cell["note"]
    # The trust total is released: so Southbank, the smaller of the other two, is withheld
    # too, and total minus Northfield gives only Southbank and Westgate together.
    n_staff, s_staff = len(staff_keys(NORTHFIELD)), len(staff_keys(SOUTHBANK))
    trust_staff = len({k for k in staff_keys(NORTHFIELD) + staff_keys(SOUTHBANK)}) + 8
    assert s_staff < n_staff
    assert got[("trust", "staff", None)]["value"] == 5 * round(trust_staff / 5)
    assert got[(str(NORTHFIELD), "staff", None)]["value"] == 5 * round(n_staff / 5)
    southbank = got[(str(SOUTHBANK), "staff", None)]
    assert southbank["symbol"] == "[c]" and southbank["value"] is None
    assert "worked out" in southbank["note"]
    assert_not_recoverable(release)

    # Counts are multiples of 5, shares whole percentages; nothing names a person.
    for (_, metric, _), cell in got.items():
        if cell["value"] is not None and metric in COUNTS:
            assert isinstance(cell["value"], int) and cell["value"] % 5 == 0, cell
        if cell["value"] is not None and metric.endswith("_share"):
            assert isinstance(cell["value"], int) and 0 <= cell["value"] <= 100, cell
    body = (await pull(demo, qa, "&format=csv")).text + str(release)
    for person in PEOPLE:
        assert person.name not in body and str(person.id) not in body

    # Read, add one person to Westgate, read again: nothing tells about them.
    await api.post(
        "/v1/people", "admin", {"name": "Westgate Newcomer", "school_ids": [westgate], "fte": 1.0}
    )
    await demo.settle()
    again = cells((await pull(demo, qa)).json())
    for key, cell in got.items():
        if key[0] in (westgate, str(SOUTHBANK)) and cell["symbol"] == "[c]":
            assert again[key]["symbol"] == "[c]", (key, again[key])
    assert again[("trust", "staff", None)]["value"] % 5 == 0


async def test_shares_of_activities_evaluated_and_with_pupil_outcomes(
    demo: Stack, api: Api
) -> None:
    westgate, _ = await small_school(api)
    courses = await everyone_trained(api)
    # Northfield's course: a plan beyond reactions, with a pupil measure observed after the
    # baseline; Southbank's: reactions only; Westgate's phonics: no plan.
    north = await api.post(
        PLANS,
        "admin",
        plan_body(courses[str(NORTHFIELD)], levels=["reactions", "learning", "pupil_outcomes"]),
    )
    await api.post(
        PLANS, "admin", plan_body(courses[str(SOUTHBANK)], title="Feedback", levels=["reactions"])
    )
    measure = await api.post(f"{PLANS}/{north['id']}/measures", "admin", measure_body())
    qa = await client_headers(demo)
    before = cells((await pull(demo, qa)).json())
    assert before[("trust", "pupil_outcome_evidence_share", None)]["value"] == 0
    await api.post(
        f"/v1/measures/{measure['id']}/observations",
        "admin",
        {"observations": [pupil(f"P{i}", "baseline", 20 + i) for i in range(12)]},
    )
    # A baseline alone is not outcome evidence.
    got = cells((await pull(demo, qa)).json())
    assert got[("trust", "pupil_outcome_evidence_share", None)]["value"] == 0
    await api.post(
        f"/v1/measures/{measure['id']}/observations",
        "admin",
        {"observations": [pupil(f"P{i}", "short_term", 25 + i + i % 3) for i in range(12)]},
    )
    got = cells((await pull(demo, qa)).json())
    # The programme's effect size is the impact analysis's own (one plan: the median is it).
    impact = await api.get(f"{PLANS}/{north['id']}/impact", "admin")
    (comparison,) = impact["measures"][0]["comparisons"]
    g = round(comparison["effect_size"]["value"], 2)
    assert got[("trust", "median_effect_size", None)]["value"] == g
    assert got[(str(NORTHFIELD), "median_effect_size", None)]["value"] == g
    # Southbank's reactions-only plan has none; with Northfield's released, nothing to hide.
    assert got[(str(SOUTHBANK), "median_effect_size", None)]["symbol"] == "[x]"
    # One of the year's three activities on either count.
    for metric in ("evaluated_beyond_reactions_share", "pupil_outcome_evidence_share"):
        assert got[("trust", metric, None)]["value"] == 33
        assert got[(str(NORTHFIELD), metric, None)]["value"] == 100
        # Westgate's eight are withheld, and Southbank (14 people) with them.
        assert got[(westgate, metric, None)]["symbol"] == "[c]"
        assert got[(str(SOUTHBANK), metric, None)]["symbol"] == "[c]"


async def test_only_qa_clients_read_metrics_and_only_their_trust(demo: Stack, api: Api) -> None:
    qa = await client_headers(demo)
    for who in ("n-head", "n-t1", "admin", "n-gov"):
        for path in ("/v1/metrics", "/v1/metrics/definitions"):
            resp = await api.call("GET", path, who, expect=403)
            assert resp.headers["content-type"].startswith("application/problem+json")
    hr = await client_headers(demo, "HR API client")
    assert (await demo.gateway.get("/v1/metrics", headers=hr)).status_code == 403
    # A client holding both roles, with a token narrowed to SCIM, is no QA reader.
    narrowed = await new_client(
        demo, api, "admin", ["qa_reader", "hr_integration"], ["metrics:read", "scim"], "scim"
    )
    assert (await demo.gateway.get("/v1/metrics", headers=narrowed)).status_code == 403

    definitions = (await demo.gateway.get("/v1/metrics/definitions", headers=qa)).json()
    assert definitions["min_people"] == 10 and definitions["rounding_base"] == 5
    assert set(definitions["symbols"]) == {"[c]", "[x]"}
    for metric in definitions["metrics"]:
        assert {"id", "version", "description", "unit", "disclosure", "base"} <= set(metric)

    # Riverside's QA client (made by Riverside's admin) sees Riverside only.
    riverside = await new_client(demo, api, "r-admin", ["qa_reader"], ["metrics:read"])
    theirs = (await pull(demo, riverside)).json()
    assert theirs["trust_id"] == str(RIVERSIDE)
    oakridge_schools = {str(NORTHFIELD), str(SOUTHBANK)}
    assert oakridge_schools.isdisjoint(s["school_id"] for s in theirs["schools"])
    # Riverside has two staff: every figure about people is withheld there.
    assert cells(theirs)[("trust", "staff", None)]["symbol"] == "[c]"
    await pull(demo, riverside, f"&school_id={NORTHFIELD}", expect=404)
    ours = (await pull(demo, qa, f"&school_id={NORTHFIELD}")).json()
    assert [s["school_id"] for s in ours["schools"]] == [str(NORTHFIELD)]
    assert ours["trust_id"] != str(RIVERSIDE)

    # A malformed year is a 422 naming the parameter.
    bad = await demo.gateway.get("/v1/metrics?academic_year=2025-27", headers=qa)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == "query.academic_year"
    bad = await demo.gateway.get("/v1/metrics?format=xml", headers=qa)
    assert bad.status_code == 422


async def test_every_pull_is_in_the_trust_admins_release_log(demo: Stack, api: Api) -> None:
    westgate, _ = await small_school(api)
    qa = await client_headers(demo)
    first = (await pull(demo, qa)).json()
    await pull(demo, qa)
    await demo.gateway.get(
        f"/v1/metrics?academic_year={YEAR.name}", headers={**qa, "Accept": "text/csv"}
    )
    riverside = await new_client(demo, api, "r-admin", ["qa_reader"], ["metrics:read"])
    await pull(demo, riverside)

    page1 = await api.get("/v1/metrics/releases?limit=2", "admin")
    page2 = await api.get(f"/v1/metrics/releases?limit=2&cursor={page1['next_cursor']}", "admin")
    log = page1["items"] + page2["items"]
    assert len(log) == 3 and page2["next_cursor"] is None
    assert [e["format"] for e in log] == ["json", "json", "csv"]
    # The log syncs by release time (append-only): from the second pull on, page by page.
    synced, cursor = [], None
    while True:
        query = f"updated_since={log[1]['released_at'].replace('+', '%2B')}&limit=1"
        page = await api.get(
            f"/v1/metrics/releases?{query}" + (f"&cursor={cursor}" if cursor else ""), "admin"
        )
        synced += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["id"] for e in synced] == [e["id"] for e in log[1:]]
    assert log[0]["id"] == first["release_id"]
    entry = log[0]
    assert entry["client_id"] == "demo-qa" and entry["academic_year"] == YEAR.name
    assert entry["definitions"]["staff"] == 1 and entry["cells_released"] > 0
    withheld = {(w["area"], w["metric"], w["rule"]) for w in entry["withheld"]}
    assert (westgate, "staff", "small_group") in withheld
    assert ("trust", "median_effect_size", "not_available") in withheld  # no plans here
    # The withheld list is exactly what the pull showed as withheld.
    shown = {key for key, f in cells(first).items() if f["symbol"] is not None}
    assert {(w["area"], w["metric"], w["principle"]) for w in entry["withheld"]} == shown

    # Riverside's admin sees only Riverside's pull; nobody else reads the log.
    theirs = (await api.get("/v1/metrics/releases", "r-admin"))["items"]
    assert len(theirs) == 1 and theirs[0]["client_id"] != "demo-qa"
    for who in ("n-head", "n-t1"):
        await api.call("GET", "/v1/metrics/releases", who, expect=403)
    assert (await demo.gateway.get("/v1/metrics/releases", headers=qa)).status_code == 403
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(func.count()).select_from(MetricRelease)) == 4


async def test_csv_holds_the_same_cells_as_json(demo: Stack, api: Api) -> None:
    await small_school(api)
    qa = await client_headers(demo)
    as_json = (await pull(demo, qa)).json()
    by_param = await pull(demo, qa, "&format=csv")
    by_accept = await demo.gateway.get(
        f"/v1/metrics?academic_year={YEAR.name}", headers={**qa, "Accept": "text/csv"}
    )
    assert by_param.headers["content-type"].startswith("text/csv")
    assert by_param.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_param.text)))
    expected = []
    for area in (as_json["trust"], *as_json["schools"]):
        for f in area["figures"]:
            expected.append(
                (
                    area["area"],
                    area["school_id"] or "",
                    f["metric"],
                    f["principle"] or "",
                    f["symbol"] if f["value"] is None else str(f["value"]),
                )
            )
    assert [
        (r["area"], r["school_id"], r["metric"], r["principle"], r["value"]) for r in rows
    ] == expected
    assert {r["academic_year"] for r in rows} == {YEAR.name}
    # JSON preferred over CSV by q-value, or asked for outright, is JSON.
    prefers_json = await demo.gateway.get(
        f"/v1/metrics?academic_year={YEAR.name}",
        headers={**qa, "Accept": "text/csv;q=0.5, application/json"},
    )
    assert prefers_json.headers["content-type"].startswith("application/json")
    assert prefers_json.json()["trust_id"] == as_json["trust_id"]


async def test_a_revoked_qa_client_gets_nothing_and_leaves_no_release(
    demo: Stack, api: Api
) -> None:
    created = await api.post(
        "/v1/clients", "admin", {"name": "Inspection body", "roles": ["qa_reader"]}
    )
    token = await demo.client_token(created["client_id"], created["client_secret"])
    qa = {"Authorization": f"Bearer {token}"}
    await pull(demo, qa)
    await api.delete(f"/v1/clients/{created['id']}", "admin")
    await demo.settle()
    # The evaluation service refuses the token itself, with or without the gateway.
    await pull(demo, qa, expect=401)
    direct = await demo.services["evaluation"].client.get("/v1/metrics", headers=qa)
    assert direct.status_code == 401
    log = (await api.get("/v1/metrics/releases", "admin"))["items"]
    assert [e["client_id"] for e in log] == [created["client_id"]]
