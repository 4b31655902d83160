"""Alignment plans (three-year SWOT grid, ETags) and strategic CPD plans (rows by month,
totals computed in SQL)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from cpd_audit.models import CpdPlanRow
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

LEADER = PEOPLE_BY_KEY["n-head"]
TEACHER = PEOPLE_BY_KEY["n-t1"]
GOVERNOR = PEOPLE_BY_KEY["n-gov"]
SOUTHBANK_TEACHER = PEOPLE_BY_KEY["s-t1"]


async def test_alignment_plan_one_per_school_and_year_edited_with_etags(demo: Stack) -> None:
    leader = await demo.headers_for(LEADER.id)
    body = {
        "school_id": str(NORTHFIELD),
        "start_year": 2026,
        "grid": {
            "attainment_and_progress": {
                "this_year": {
                    "strengths": ["Phonics outcomes above national"],
                    "weaknesses": ["Writing at greater depth in KS2"],
                },
                "next_year": {"opportunities": ["Trust English hub"]},
            },
            "ethos_and_wider_development": {
                "this_year": {"threats": ["Persistent absence after Covid"]}
            },
        },
    }
    resp = await demo.gateway.post("/v1/alignment-plans", headers=leader, json=body)
    assert resp.status_code == 201, resp.text
    plan = resp.json()
    url = f"/v1/alignment-plans/{plan['id']}"
    assert resp.headers["location"] == url
    assert plan["academic_years"] == {
        "this_year": "2026/27",
        "next_year": "2027/28",
        "year_after": "2028/29",
    }
    assert plan["title"] == "Alignment framework 2026/27 to 2028/29"
    grid = plan["grid"]
    assert grid["attainment_and_progress"]["this_year"]["weaknesses"] == [
        "Writing at greater depth in KS2"
    ]
    assert grid["attainment_and_progress"]["year_after"] == {
        "strengths": [],
        "weaknesses": [],
        "opportunities": [],
        "threats": [],
    }

    dup = await demo.gateway.post("/v1/alignment-plans", headers=leader, json=body)
    assert dup.status_code == 409
    assert "2026/27" in dup.json()["detail"]
    other_year = await demo.gateway.post(
        "/v1/alignment-plans", headers=leader, json={**body, "start_year": 2027}
    )
    assert other_year.status_code == 201

    got = await demo.gateway.get(url, headers=leader)
    assert got.status_code == 200
    etag = got.headers["etag"]
    change = {
        "grid": {
            "attainment_and_progress": {
                "this_year": {"weaknesses": ["Writing", "Maths reasoning"], "strengths": None}
            }
        },
        "notes": "Agreed at SLT on 3 October.",
    }
    assert (await demo.gateway.patch(url, headers=leader, json=change)).status_code == 428
    resp = await demo.gateway.patch(url, headers={**leader, "If-Match": '"stale"'}, json=change)
    assert resp.status_code == 412
    assert resp.headers["content-type"].startswith("application/problem+json")
    resp = await demo.gateway.patch(url, headers={**leader, "If-Match": etag}, json=change)
    assert resp.status_code == 200, resp.text
    merged = resp.json()["grid"]
    assert merged["attainment_and_progress"]["this_year"] == {
        "strengths": [],
        "weaknesses": ["Writing", "Maths reasoning"],
        "opportunities": [],
        "threats": [],
    }
    assert merged["attainment_and_progress"]["next_year"]["opportunities"] == ["Trust English hub"]
    assert merged["ethos_and_wider_development"] == grid["ethos_and_wider_development"]
    assert resp.json()["notes"] == "Agreed at SLT on 3 October."
    new_etag = resp.headers["etag"]
    assert new_etag != etag
    # A second editor still holding the first ETag is refused.
    resp = await demo.gateway.patch(
        url, headers={**leader, "If-Match": etag}, json={"title": "Overwrite"}
    )
    assert resp.status_code == 412
    assert (await demo.gateway.get(url, headers=leader)).headers["etag"] == new_etag

    # The school's staff and governors read it; they cannot edit it; other schools and
    # trusts cannot see it.
    for who in (TEACHER, GOVERNOR):
        headers = await demo.headers_for(who.id)
        assert (await demo.gateway.get(url, headers=headers)).status_code == 200
        resp = await demo.gateway.patch(
            url, headers={**headers, "If-Match": new_etag}, json={"title": "Mine"}
        )
        assert resp.status_code == 403
    for headers in (
        await demo.headers_for(SOUTHBANK_TEACHER.id),
        await demo.auth("admin@riverside.example", "riverside-admin-2026"),
    ):
        assert (await demo.gateway.get(url, headers=headers)).status_code == 404
        resp = await demo.gateway.patch(
            url, headers={**headers, "If-Match": new_etag}, json={"title": "Mine"}
        )
        assert resp.status_code == 404
        assert (await demo.gateway.get("/v1/alignment-plans", headers=headers)).json()[
            "items"
        ] == []
    listed = await demo.gateway.get("/v1/alignment-plans?start_year=2026", headers=leader)
    assert [p["id"] for p in listed.json()["items"]] == [plan["id"]]

    bad = await demo.gateway.post(
        "/v1/alignment-plans",
        headers=leader,
        json={
            "school_id": str(NORTHFIELD),
            "start_year": 1990,
            "grid": {"culture": {}, "attainment_and_progress": {"this_year": {"hopes": ["x"]}}},
        },
    )
    assert bad.status_code == 422
    assert {e["loc"] for e in bad.json()["errors"]} == {
        "body.start_year",
        "body.grid.culture",
        "body.grid.attainment_and_progress.this_year.hopes",
    }
    teacher = await demo.headers_for(TEACHER.id)
    resp = await demo.gateway.post(
        "/v1/alignment-plans", headers=teacher, json={**body, "start_year": 2030}
    )
    assert resp.status_code == 403

    etag = (await demo.gateway.get(url, headers=leader)).headers["etag"]
    assert (await demo.gateway.delete(url, headers=leader)).status_code == 428
    stale = {**leader, "If-Match": '"stale"'}
    assert (await demo.gateway.delete(url, headers=stale)).status_code == 412
    current = {**leader, "If-Match": etag}
    assert (await demo.gateway.delete(url, headers=current)).status_code == 204
    assert (await demo.gateway.get(url, headers=leader)).status_code == 404


async def _need(demo: Stack, headers: dict[str, str], title: str, school=NORTHFIELD) -> str:
    resp = await demo.gateway.post(
        "/v1/needs",
        headers=headers,
        json={
            "school_id": str(school),
            "level": "whole_school",
            "title": title,
            "need_types": ["skills"],
        },
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def test_cpd_plan_totals_per_month_and_per_need_add_up(demo: Stack) -> None:
    leader = await demo.headers_for(LEADER.id)
    reading = await _need(demo, leader, "Early reading fluency")
    maths = await _need(demo, leader, "Maths mastery in KS1")
    rows = [
        (reading, "2026-09", "INSET: fluency routines", "English lead", "0", "cpd_budget"),
        (reading, "2026-10", "English hub training", "English lead", "450.00", "grant"),
        (
            reading,
            "2026-10",
            "Supply cover for hub days",
            "Business manager",
            "380.50",
            "cpd_budget",
        ),
        (maths, "2026-10", "Maths hub work group", "Maths lead", "250.25", "national_funding"),
        (maths, "2027-01", "Lesson study cycle 1", "Maths lead", "600", "cpd_budget"),
        (maths, "2027-07", "Lesson study open house", "Deputy head", "99.99", "pupil_premium"),
    ]
    body = {
        "school_id": str(NORTHFIELD),
        "start_year": 2026,
        "notes": "Draft for governors' finance committee.",
        "rows": [
            {
                "need_id": need,
                "month": month,
                "activity": what,
                "responsible": who,
                "cost": cost,
                "funding_source": source,
            }
            for need, month, what, who, cost, source in rows
        ],
    }
    resp = await demo.gateway.post("/v1/cpd-plans", headers=leader, json=body)
    assert resp.status_code == 201, resp.text
    plan = resp.json()
    url = f"/v1/cpd-plans/{plan['id']}"
    assert plan["academic_year"] == "2026/27"
    assert plan["title"] == "Strategic CPD plan 2026/27"
    assert [r["month"] for r in plan["rows"]] == sorted(r[1] for r in rows)

    # Add, change and remove a row through the rows endpoints.
    added = await demo.gateway.post(
        f"{url}/rows",
        headers=leader,
        json={
            "need_id": reading,
            "month": "2027-03",
            "activity": "Peer coaching on reading fluency",
            "responsible": "Tom Fletcher",
            "responsible_person_id": str(PEOPLE_BY_KEY["n-deputy"].id),
            "cost": 125.5,
            "funding_source": "cpd_budget",
        },
    )
    assert added.status_code == 201, added.text
    row_url = added.headers["location"]
    assert row_url == f"{url}/rows/{added.json()['id']}"
    rows.append((reading, "2027-03", "Peer coaching", "Tom Fletcher", "125.50", "cpd_budget"))
    resp = await demo.gateway.patch(row_url, headers=leader, json={"cost": 140})
    assert resp.status_code == 428
    resp = await demo.gateway.patch(
        row_url, headers={**leader, "If-Match": added.headers["etag"]}, json={"cost": 140}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["cost"] == 140.0
    rows[-1] = (*rows[-1][:4], "140", rows[-1][5])
    doomed = await demo.gateway.post(
        f"{url}/rows",
        headers=leader,
        json={"need_id": maths, "month": "2027-02", "activity": "Cancelled", "responsible": "x"},
    )
    assert doomed.status_code == 201
    doomed_url = doomed.headers["location"]
    assert (await demo.gateway.delete(doomed_url, headers=leader)).status_code == 428
    stale = {**leader, "If-Match": '"stale"'}
    assert (await demo.gateway.delete(doomed_url, headers=stale)).status_code == 412
    current = {**leader, "If-Match": doomed.headers["etag"]}
    assert (await demo.gateway.delete(doomed_url, headers=current)).status_code == 204

    got = await demo.gateway.get(url, headers=leader)
    assert got.status_code == 200
    totals = got.json()["totals"]

    by_month: dict[str, Decimal] = defaultdict(Decimal)
    count_month: dict[str, int] = defaultdict(int)
    by_need: dict[str, Decimal] = defaultdict(Decimal)
    by_source: dict[str, Decimal] = defaultdict(Decimal)
    for need, month, _, _, cost, source in rows:
        by_month[month] += Decimal(cost)
        count_month[month] += 1
        by_need[need] += Decimal(cost)
        by_source[source] += Decimal(cost)
    months = [f"2026-{m:02d}" for m in range(9, 13)] + [f"2027-{m:02d}" for m in range(1, 9)]
    assert [m["month"] for m in totals["by_month"]] == months
    for m in totals["by_month"]:
        assert Decimal(str(m["cost"])) == by_month.get(m["month"], Decimal(0)), m
        assert m["rows"] == count_month.get(m["month"], 0)
    assert {n["need_id"]: Decimal(str(n["cost"])) for n in totals["by_need"]} == dict(by_need)
    assert {n["need_id"]: n["need_title"] for n in totals["by_need"]} == {
        reading: "Early reading fluency",
        maths: "Maths mastery in KS1",
    }
    assert {n["need_id"]: n["rows"] for n in totals["by_need"]} == {reading: 4, maths: 3}
    assert {
        f["funding_source"]: Decimal(str(f["cost"])) for f in totals["by_funding_source"]
    } == dict(by_source)
    assert Decimal(str(totals["cost"])) == sum(by_need.values()) == Decimal("1920.74")
    assert totals["rows"] == len(rows)

    # Plan ETags: stale 412, missing 428.
    etag = got.headers["etag"]
    assert (await demo.gateway.patch(url, headers=leader, json={"title": "T"})).status_code == 428
    resp = await demo.gateway.patch(
        url, headers={**leader, "If-Match": added.headers["etag"]}, json={"title": "T"}
    )
    assert resp.status_code == 412
    resp = await demo.gateway.patch(
        url, headers={**leader, "If-Match": etag}, json={"title": "CPD plan 2026/27 (v2)"}
    )
    assert resp.status_code == 200
    assert resp.json()["title"] == "CPD plan 2026/27 (v2)"


async def test_cpd_plan_rules_validation_and_visibility(demo: Stack) -> None:
    leader = await demo.headers_for(LEADER.id)
    need = await _need(demo, leader, "Early reading fluency")
    southbank_need = await _need(
        demo, await demo.headers_for(PEOPLE_BY_KEY["s-head"].id), "Science practicals", SOUTHBANK
    )
    # Rows the schema refuses (the third) are reported before rows the service refuses.
    rows = [
        {"need_id": need, "month": "2026-08", "activity": "Too early", "responsible": "x"},
        {
            "need_id": southbank_need,
            "month": "2027-08",
            "activity": "Another school's need",
            "responsible": "x",
        },
        {
            "need_id": need,
            "month": "2027-13",
            "activity": "",
            "responsible": "x",
            "cost": -5,
            "funding_source": "piggy_bank",
        },
    ]
    plan = {"school_id": str(NORTHFIELD), "start_year": 2026}
    resp = await demo.gateway.post("/v1/cpd-plans", headers=leader, json={**plan, "rows": rows})
    assert resp.status_code == 422
    assert {e["loc"] for e in resp.json()["errors"]} == {
        "body.rows.2.month",
        "body.rows.2.activity",
        "body.rows.2.cost",
        "body.rows.2.funding_source",
    }
    resp = await demo.gateway.post("/v1/cpd-plans", headers=leader, json={**plan, "rows": rows[:2]})
    assert resp.status_code == 422
    assert resp.json()["errors"] == [
        {
            "loc": "body.rows.0.month",
            "msg": "not in the academic year 2026/27 (September to August)",
        },
        {"loc": "body.rows.1.need_id", "msg": "no such need at this school"},
    ]
    async with demo.session("audit") as session:
        assert await session.scalar(select(func.count()).select_from(CpdPlanRow)) == 0

    created = await demo.gateway.post(
        "/v1/cpd-plans", headers=leader, json={"school_id": str(NORTHFIELD), "start_year": 2026}
    )
    assert created.status_code == 201
    assert created.json()["totals"]["cost"] == 0
    assert created.json()["totals"]["by_need"] == []
    assert len(created.json()["totals"]["by_month"]) == 12
    dup = await demo.gateway.post(
        "/v1/cpd-plans", headers=leader, json={"school_id": str(NORTHFIELD), "start_year": 2026}
    )
    assert dup.status_code == 409
    url = f"/v1/cpd-plans/{created.json()['id']}"

    # Leaders of the school and trust admins only.
    admin = await demo.auth("admin@oakridge.example", "oakridge-admin-2026")
    assert (await demo.gateway.get(url, headers=admin)).status_code == 200
    for who in (TEACHER, GOVERNOR, PEOPLE_BY_KEY["s-head"]):
        headers = await demo.headers_for(who.id)
        assert (await demo.gateway.get(url, headers=headers)).status_code == 404
        resp = await demo.gateway.post(
            f"{url}/rows",
            headers=headers,
            json={"need_id": need, "month": "2026-11", "activity": "x", "responsible": "x"},
        )
        assert resp.status_code == 404
    teacher = await demo.headers_for(TEACHER.id)
    assert (await demo.gateway.get("/v1/cpd-plans", headers=teacher)).status_code == 403
    resp = await demo.gateway.post(
        "/v1/cpd-plans", headers=teacher, json={"school_id": str(NORTHFIELD), "start_year": 2027}
    )
    assert resp.status_code == 403
    other = await demo.auth("admin@riverside.example", "riverside-admin-2026")
    assert (await demo.gateway.get(url, headers=other)).status_code == 404
    assert (await demo.gateway.delete(url, headers=other)).status_code == 404
    assert (await demo.gateway.get("/v1/cpd-plans", headers=other)).json()["items"] == []
    listed = await demo.gateway.get("/v1/cpd-plans", headers=leader)
    assert [p["id"] for p in listed.json()["items"]] == [created.json()["id"]]


async def test_planning_demo_reads_back_through_the_api(demo: Stack) -> None:
    from cpd_audit import demo_planning
    from cpd_audit.models import OutboxEvent
    from cpd_common.events import catalogue

    async with demo.session("audit") as session:
        assert await demo_planning.seed_planning_demo(session) is True
        await session.commit()
    async with demo.session("audit") as session:
        assert await demo_planning.seed_planning_demo(session) is False
        events = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.type == catalogue.NeedRecorded.event_type)
        )
        assert events == 6
    leader = await demo.auth("leader@northfield.example", "northfield-leader-2026")
    start_year = demo_planning.current_start_year()

    plan = await demo.gateway.get(f"/v1/cpd-plans/{demo_planning.CPD_PLAN}", headers=leader)
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert body["start_year"] == start_year
    assert len(body["rows"]) == 7
    assert Decimal(str(body["totals"]["cost"])) == sum(
        Decimal(str(r["cost"])) for r in body["rows"]
    )
    by_need = {n["need_id"]: Decimal(str(n["cost"])) for n in body["totals"]["by_need"]}
    assert by_need[str(demo_planning.NEED_WRITING)] == Decimal("990.00")

    alignment = await demo.gateway.get(
        f"/v1/alignment-plans/{demo_planning.ALIGNMENT_PLAN}", headers=leader
    )
    assert alignment.status_code == 200
    assert alignment.json()["grid"]["attainment_and_progress"]["this_year"]["weaknesses"]

    needs = await demo.gateway.get(f"/v1/needs?school_id={NORTHFIELD}", headers=leader)
    assert len(needs.json()["items"]) == 3
    ect = await demo.headers_for(PEOPLE_BY_KEY["n-t2"].id)
    mine = await demo.gateway.get("/v1/needs?level=individual", headers=ect)
    assert [n["id"] for n in mine.json()["items"]] == [str(demo_planning.NEED_ECT_BEHAVIOUR)]
    linked = await demo.gateway.get(
        f"/v1/needs?audit_id={demo_planning.VALUES_AUDIT}", headers=leader
    )
    assert linked.json()["items"] == []  # a Southbank need: not this Northfield leader's
    admin = await demo.auth("admin@oakridge.example", "oakridge-admin-2026")
    linked = await demo.gateway.get(
        f"/v1/needs?audit_id={demo_planning.VALUES_AUDIT}", headers=admin
    )
    assert [n["id"] for n in linked.json()["items"]] == [str(demo_planning.NEED_ENQUIRY)]
    assert linked.json()["items"][0]["audit_items"] == [
        {"audit_id": str(demo_planning.VALUES_AUDIT), "item_keys": ["2"]}
    ]
    teacher = await demo.auth("teacher@northfield.example", "northfield-teacher-2026")
    theirs = await demo.gateway.get("/v1/needs?level=individual", headers=teacher)
    assert theirs.json()["items"] == []
