"""The trust's CPD offer: the progression ladder, the programme catalogue and its filters,
published runs recorded as activities, requests and approvals (never overbooked under
concurrent approvals), budgets against independently computed sums, the calendar and its
iCalendar feed (parsed back with a second library, across the October clock change),
tenancy and erasure."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import vobject  # type: ignore[import-untyped]
from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, SOUTHBANK
from cpd_local.stack import Stack

from .conftest import Api, outbox, person_id

FUTURE = "2027-03-01T09:00:00+00:00"


def session(starts: str, ends: str, **extra: Any) -> dict[str, Any]:
    return {"starts_at": starts, "ends_at": ends, **extra}


async def programme(api: Api, who: str = "admin", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Early-career maths pedagogy",
        "description": "Four sessions on modelling and retrieval for newer teachers.",
        "format": "in_house",
        "stage_keys": ["early_career"],
        "cost_per_place": "250.00",
    }
    body.update(fields)
    return await api.post("/v1/programmes", who, body)


async def run(
    api: Api, programme_id: str, who: str = "admin", *, capacity: int = 5, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "capacity": capacity,
        "sessions": [
            session("2027-03-01T09:00:00+00:00", "2027-03-01T12:00:00+00:00", place="Hall"),
            session("2027-04-26T09:00:00+01:00", "2027-04-26T12:00:00+01:00", place="Hall"),
        ],
    }
    body.update(fields)
    return await api.post(f"/v1/programmes/{programme_id}/runs", who, body)


async def test_ladder_defaults_my_stage_and_admin_edits(api: Api) -> None:
    ladder = await api.get("/v1/career-stages", "n-t2")  # an ECT teacher
    keys = [s["key"] for s in ladder["items"]]
    assert keys[:5] == [
        "early_career",
        "experienced_teacher",
        "middle_leader",
        "senior_leader",
        "headteacher",
    ]
    assert {"teaching_assistant", "hlta", "support_leadership"} <= set(keys)
    assert ladder["my_stage"] == "early_career"
    assert (await api.get("/v1/career-stages", "n-t1"))["my_stage"] == "experienced_teacher"
    assert (await api.get("/v1/career-stages", "n-ta1"))["my_stage"] == "teaching_assistant"

    middle = next(s for s in ladder["items"] if s["key"] == "middle_leader")
    path = f"/v1/career-stages/{middle['id']}"
    await api.call(
        "PATCH", path, "n-head", json={"name": "X"}, headers={"If-Match": "*"}, expect=403
    )
    # The first edit stores the default ladder: the id read before still names the rung.
    changed = await api.patch(path, "admin", {"name": "Subject or phase leader"})
    assert changed["id"] == middle["id"] and changed["name"] == "Subject or phase leader"
    again = await api.get("/v1/career-stages", "n-t1")
    assert [s["id"] for s in again["items"]] == [s["id"] for s in ladder["items"]]
    await api.patch(path, "admin", {"name": None}, expect=422)
    await api.post(
        "/v1/career-stages",
        "admin",
        {"track": "teaching", "key": "middle_leader", "name": "Dup", "rank": 3},
        expect=409,
    )
    await api.post(
        "/v1/career-stages",
        "admin",
        {"track": "support", "key": "Bad Key", "name": "x", "rank": 1},
        expect=422,
    )
    # Another trust neither sees nor edits this trust's rungs.
    await api.call("GET", path, "r-admin", expect=404)
    await api.call("GET", "/v1/career-stages", "n-gov", expect=403)
    # A rung programmes are offered to stays.
    await programme(api, stage_keys=["middle_leader"], title="Leading a department")
    await api.delete(path, "admin", expect=409)


async def test_catalogue_filters_for_my_stage_needs_and_places(api: Api, demo: Stack) -> None:
    need = uuid.uuid4()
    other_school_need = uuid.uuid4()
    async with demo.session("evaluation") as s:
        trust = (
            await s.execute(text("SELECT trust_id FROM schools WHERE id = :id"), {"id": NORTHFIELD})
        ).scalar_one()
        for nid, school in ((need, NORTHFIELD), (other_school_need, SOUTHBANK)):
            await s.execute(
                text(
                    "INSERT INTO needs (id, trust_id, school_id, level, need_types, item_keys,"
                    " recorded_at) VALUES (:id, :trust, :school, 'whole_school',"
                    " ARRAY['skills'], ARRAY[]::varchar[], now())"
                ),
                {"id": nid, "trust": trust, "school": school},
            )
        await s.commit()
    ect = await programme(api, need_ids=[str(need)])
    leaders = await programme(
        api,
        title="Middle leadership",
        stage_keys=["middle_leader"],
        format="teaching_school_hub",
        need_ids=[str(other_school_need)],
    )
    everyone = await programme(
        api,
        title="Phonics for all",
        stage_keys=[],
        format="online_blended",
        subject_specific=True,
        subject="Phonics",
    )
    await api.post(
        "/v1/programmes",
        "admin",
        {"title": "x", "format": "in_house", "stage_keys": ["nope"]},
        expect=422,
    )
    await api.post(
        "/v1/programmes", "admin", {"title": ect["title"], "format": "external"}, expect=409
    )
    await api.post("/v1/programmes", "n-t1", {"title": "Mine", "format": "external"}, expect=403)

    def ids(page: dict[str, Any]) -> set[str]:
        return {p["id"] for p in page["items"]}

    assert ids(await api.get("/v1/programmes?for_my_stage=true", "n-t2")) == {
        ect["id"],
        everyone["id"],
    }
    assert ids(await api.get("/v1/programmes?for_my_needs=true", "n-t2")) == {ect["id"]}
    assert ids(await api.get("/v1/programmes?for_my_needs=true", "s-t1")) == {leaders["id"]}
    assert ids(await api.get("/v1/programmes?format=online_blended", "n-t2")) == {everyone["id"]}
    assert ids(await api.get("/v1/programmes?subject=phonics", "n-t2")) == {everyone["id"]}
    assert ids(await api.get("/v1/programmes?places_left=true", "n-t2")) == set()
    published = await run(api, ect["id"], capacity=1)
    assert published["sustained"] is True and published["places_left"] == 1
    assert ids(await api.get("/v1/programmes?places_left=true", "n-t2")) == {ect["id"]}
    assert ids(await api.get("/v1/programmes?from=2027-04-01&to=2027-04-30", "n-t2")) == {ect["id"]}
    assert ids(await api.get("/v1/programmes?from=2027-06-01", "n-t2")) == set()
    read = await api.get(f"/v1/programmes/{ect['id']}", "n-t2")
    assert read["upcoming_runs"] == 1 and read["places_left"] == 1 and read["sustained"]
    await api.call("GET", f"/v1/programmes/{ect['id']}", "r-admin", expect=404)
    await api.call("GET", "/v1/programmes", "n-gov", expect=403)


async def test_publishing_a_run_records_its_activity_once(api: Api) -> None:
    p = await programme(api, format="higher_education")
    r = await run(api, p["id"])
    activity = await api.get(f"/v1/activities/{r['activity_id']}", "admin")
    assert activity["title"] == p["title"] and activity["kind"] == "accredited_programme"
    assert [s["held_on"] for s in activity["sessions"]] == ["2027-03-01", "2027-04-26"]
    assert [s["duration_minutes"] for s in activity["sessions"]] == [180, 180]
    assert activity["sustained"]["sustained"] is True
    # Leaders publish runs for their own schools only; staff not at all.
    await api.post(
        f"/v1/programmes/{p['id']}/runs",
        "n-head",
        {"capacity": 3, "sessions": [session(FUTURE, "2027-03-01T10:00:00+00:00")]},
        expect=422,
    )
    own = await run(api, p["id"], "n-head", school_ids=[str(NORTHFIELD)])
    assert own["school_ids"] == [str(NORTHFIELD)]
    await api.post(
        f"/v1/programmes/{p['id']}/runs",
        "n-t1",
        {"capacity": 3, "sessions": [session(FUTURE, "2027-03-01T10:00:00+00:00")]},
        expect=403,
    )
    await api.post(
        f"/v1/programmes/{p['id']}/runs",
        "admin",
        {"capacity": 3, "sessions": [session(FUTURE, "2027-03-01T08:00:00+00:00")]},
        expect=422,
    )
    # A programme with runs is kept.
    await api.delete(f"/v1/programmes/{p['id']}", "admin", expect=409)
    # The run's activity goes with the run (cancel it), not by deleting the activity.
    await api.delete(f"/v1/activities/{r['activity_id']}", "admin", expect=409)


async def _ask(api: Api, who: str, run_id: str, **fields: Any) -> dict[str, Any]:
    return await api.post("/v1/cpd-requests", who, {"kind": "place", "run_id": run_id, **fields})


async def test_twenty_concurrent_approvals_book_exactly_five_places(api: Api, demo: Stack) -> None:
    p = await programme(api, trust_funded=True, stage_keys=[])
    r = await run(api, p["id"], capacity=5)
    staff = [f"n-t{i}" for i in range(1, 8)] + [f"s-t{i}" for i in range(1, 9)]
    staff += ["n-ta1", "n-ta2", "n-ta3", "s-ta1", "s-ta2"]
    assert len(staff) == 20
    requests = [await _ask(api, who, r["id"]) for who in staff]
    assert all(q["decided_by_trust"] and q["status"] == "submitted" for q in requests)
    # A leader does not decide trust-funded places; the requester never decides their own.
    await api.post(
        f"/v1/cpd-requests/{requests[0]['id']}/decision",
        "n-head",
        {"decision": "approve"},
        expect=403,
    )
    responses = await asyncio.gather(
        *(
            api.call(
                "POST",
                f"/v1/cpd-requests/{q['id']}/decision",
                "admin",
                json={"decision": "approve"},
                expect=None,
            )
            for q in requests
        )
    )
    statuses = sorted(resp.status_code for resp in responses)
    assert statuses == [200] * 5 + [409] * 15, statuses
    assert all(
        resp.headers["content-type"].startswith("application/problem+json")
        for resp in responses
        if resp.status_code == 409
    )
    after = await api.get(f"/v1/programmes/{p['id']}/runs/{r['id']}", "admin")
    assert after["places_booked"] == 5 and after["places_left"] == 0
    participants = await api.get(f"/v1/activities/{r['activity_id']}/participants", "admin")
    assert len(participants["items"]) == 5
    async with demo.session("evaluation") as s:
        approved = (
            await s.execute(text("SELECT count(*) FROM cpd_requests WHERE status = 'approved'"))
        ).scalar_one()
    assert approved == 5
    assert len(await outbox(demo, catalogue.PlaceBooked.event_type)) == 5
    assert len(await outbox(demo, catalogue.RequestDecided.event_type)) == 5


async def test_request_decide_cancel_visibility_and_events(api: Api, demo: Stack) -> None:
    p = await programme(api)
    r = await run(api, p["id"], capacity=2)
    mine = await _ask(api, "n-t2", r["id"], rationale="Retrieval practice is my target.")
    await api.post("/v1/cpd-requests", "n-t2", {"kind": "place", "run_id": r["id"]}, expect=409)
    await api.post("/v1/cpd-requests", "n-t2", {"kind": "place"}, expect=422)
    await api.post("/v1/cpd-requests", "r-t1", {"kind": "place", "run_id": r["id"]}, expect=422)
    # Only the requester, the school's leaders and trust admins see it.
    path = f"/v1/cpd-requests/{mine['id']}"
    assert (await api.get(path, "n-head"))["rationale"] == "Retrieval practice is my target."
    await api.call("GET", path, "n-t1", expect=404)
    await api.call("GET", path, "s-head", expect=404)
    await api.call("GET", path, "r-admin", expect=404)
    awaiting = await api.get("/v1/cpd-requests?awaiting_me=true", "n-head")
    assert [q["id"] for q in awaiting["items"]] == [mine["id"]]
    assert (await api.get("/v1/cpd-requests?awaiting_me=true", "s-head"))["items"] == []
    await api.post(f"{path}/decision", "n-t1", {"decision": "approve"}, expect=404)
    await api.post(f"{path}/decision", "n-head", {"decision": "decline"}, expect=422)
    decided = await api.post(f"{path}/decision", "n-head", {"decision": "approve"}, expect=200)
    assert decided["status"] == "approved" and decided["warnings"] == ["no_budget"]
    await api.post(f"{path}/decision", "n-head", {"decision": "approve"}, expect=409)
    participants = await api.get(f"/v1/activities/{r['activity_id']}/participants", "admin")
    assert [x["person_id"] for x in participants["items"]] == [person_id("n-t2")]
    activity = await api.get(f"/v1/activities/{r['activity_id']}", "admin")
    assert Decimal(str(activity["costs"]["fees"])) == Decimal("250")
    # Withdrawing releases the place, the participation and the fees.
    cancelled = await api.post(f"{path}/cancel", "n-t2", {}, expect=200)
    assert cancelled["status"] == "cancelled"
    assert (await api.get(f"/v1/programmes/{p['id']}/runs/{r['id']}", "admin"))[
        "places_booked"
    ] == 0
    participants = await api.get(f"/v1/activities/{r['activity_id']}/participants", "admin")
    assert participants["items"] == []
    activity = await api.get(f"/v1/activities/{r['activity_id']}", "admin")
    assert Decimal(str(activity["costs"]["fees"])) == Decimal("0")
    await api.post(f"{path}/cancel", "n-t2", {}, expect=409)
    # A declined request keeps its reason.
    again = await _ask(api, "n-t2", r["id"])
    declined = await api.post(
        f"/v1/cpd-requests/{again['id']}/decision",
        "n-deputy",
        {"decision": "decline", "reason": "Full timetable that term."},
        expect=200,
    )
    assert declined["reason"] == "Full timetable that term."
    submitted = await outbox(demo, catalogue.RequestSubmitted.event_type)
    assert [e["data"]["request_id"] for e in submitted] == [mine["id"], again["id"]]
    assert len(await outbox(demo, catalogue.RequestCancelled.event_type)) == 1
    # Cancelling the run cancels its open requests.
    third = await _ask(api, "n-t4", r["id"])
    await api.post(
        f"/v1/cpd-requests/{third['id']}/decision", "n-head", {"decision": "approve"}, expect=200
    )
    cancelled_run = await api.post(
        f"/v1/programmes/{p['id']}/runs/{r['id']}/cancel",
        "admin",
        {"reason": "Trainer ill"},
        expect=200,
    )
    assert cancelled_run["status"] == "cancelled"
    assert (await api.get(f"/v1/cpd-requests/{third['id']}", "n-t4"))["status"] == "cancelled"
    assert (await api.get(f"/v1/activities/{r['activity_id']}", "admin"))["status"] == "cancelled"
    await api.post("/v1/cpd-requests", "n-t5", {"kind": "place", "run_id": r["id"]}, expect=409)


async def test_budget_figures_match_independent_sums(api: Api, demo: Stack) -> None:
    year = "2026-27"
    await api.put(f"/v1/budgets/{NORTHFIELD}/{year}", "n-head", {"amount": "1000.00"})
    await api.put(f"/v1/budgets/{SOUTHBANK}/{year}", "n-head", {"amount": "1"}, expect=404)
    await api.call("GET", f"/v1/budgets/{NORTHFIELD}/{year}", "n-t1", expect=403)
    await api.call("GET", f"/v1/budgets/{NORTHFIELD}/{year}", "r-admin", expect=404)
    # Spent: a course that already happened, for Northfield alone (450 + 20 + 360).
    await api.create_activity(
        sessions=[{"held_on": "2026-10-06", "duration_minutes": 360}],
    )
    # Committed: a future activity shared by both schools (fees 300: 150 each).
    await api.create_activity(
        "admin",
        title="Trust INSET",
        kind="inset",
        subject_specific=False,
        subject=None,
        school_ids=[str(NORTHFIELD), str(SOUTHBANK)],
        sessions=[{"held_on": "2027-02-01", "duration_minutes": 300}],
        costs={"fees": "300", "materials": "0", "supply_cover": "0"},
        release_time_hours=0,
    )
    # Committed: an approved place (250) and approved study (400); a declined one counts nil.
    p = await programme(api, format="external")
    r = await run(api, p["id"])
    place = await _ask(api, "n-t1", r["id"])
    await api.post(
        f"/v1/cpd-requests/{place['id']}/decision", "n-head", {"decision": "approve"}, expect=200
    )
    study = await api.post(
        "/v1/cpd-requests",
        "n-t3",
        {
            "kind": "study",
            "institution": "University of Example",
            "course": "MA Education",
            "starts_on": "2027-01-10",
            "ends_on": "2027-07-10",
            "cost": "400.00",
            "time_off_days": 2,
        },
    )
    warned = await api.post(
        f"/v1/cpd-requests/{study['id']}/decision", "n-head", {"decision": "approve"}, expect=200
    )
    # 1000 - 830 spent - 150 - 250 committed = -230 left before this approval: over budget.
    assert warned["warnings"] == ["over_budget"]
    other = await api.post(
        "/v1/cpd-requests",
        "n-t4",
        {
            "kind": "study",
            "institution": "X",
            "course": "Y",
            "starts_on": "2027-01-10",
            "ends_on": "2027-02-10",
            "cost": "999",
        },
    )
    await api.post(
        f"/v1/cpd-requests/{other['id']}/decision",
        "n-head",
        {"decision": "decline", "reason": "Not this year."},
        expect=200,
    )
    budget = await api.get(f"/v1/budgets/{NORTHFIELD}/{year}", "n-head")
    # The course released 12 hours of staff time: at no hourly cost set, it costs nothing here.
    spent = Decimal("450") + Decimal("20") + Decimal("360")
    committed = Decimal("150") + Decimal("250") + Decimal("400")
    assert Decimal(budget["spent"]) == spent
    assert Decimal(budget["committed"]) == committed
    assert Decimal(budget["remaining"]) == Decimal("1000") - spent - committed
    formats = {
        f["key"]: (Decimal(f["committed"]), Decimal(f["spent"])) for f in budget["by_format"]
    }
    assert formats == {
        "external": (Decimal("250"), spent),
        "in_house": (Decimal("150"), Decimal("0")),
        "professional_study": (Decimal("400"), Decimal("0")),
    }
    needs = {n["key"]: Decimal(n["committed"]) + Decimal(n["spent"]) for n in budget["by_need"]}
    assert needs == {"unassigned": spent + committed}
    # With the trust's hourly staff cost set, the released time counts as spent too.
    await api.put("/v1/evaluation-settings", "admin", {"hourly_staff_cost": "30.00"})
    with_time = await api.get(f"/v1/budgets/{NORTHFIELD}/{year}", "n-head")
    assert Decimal(with_time["spent"]) == spent + 12 * Decimal("30")
    side_by_side = await api.get(f"/v1/budgets?academic_year={year}", "admin")
    by_school = {s["school_id"]: s for s in side_by_side["schools"]}
    assert Decimal(by_school[str(SOUTHBANK)]["committed"]) == Decimal("150")
    assert by_school[str(SOUTHBANK)]["amount"] is None
    assert Decimal(side_by_side["committed"]) == committed + Decimal("150")
    assert [
        s["school_id"]
        for s in (await api.get(f"/v1/budgets?academic_year={year}", "n-head"))["schools"]
    ] == [str(NORTHFIELD)]


async def test_calendar_and_ical_feed_across_the_october_clock_change(api: Api) -> None:
    p = await programme(api, title="Coaching skills", stage_keys=[])
    r = await run(
        api,
        p["id"],
        sessions=[
            # Thursday before the clocks go back (BST) and the Thursday after (GMT), 09:00 local.
            session("2027-10-28T08:00:00Z", "2027-10-28T11:00:00Z", place="Room <b>4</b>"),
            session("2027-11-04T09:00:00Z", "2027-11-04T12:00:00Z", link="https://meet.example/x"),
        ],
    )
    q = await _ask(api, "n-t1", r["id"])
    await api.post(
        f"/v1/cpd-requests/{q['id']}/decision", "n-head", {"decision": "approve"}, expect=200
    )
    window = "from=2027-10-01&to=2027-11-30"
    mine = await api.get(f"/v1/calendar?{window}", "n-t1")
    assert [e["on"] for e in mine["entries"]] == ["2027-10-28", "2027-11-04"]
    assert all(e["booked"] for e in mine["entries"])
    assert (await api.get(f"/v1/calendar?{window}", "n-t2"))["entries"] == []
    trust = await api.get(f"/v1/calendar?scope=trust&{window}", "n-t2")
    assert len(trust["entries"]) == 2
    await api.call("GET", f"/v1/calendar?scope=school&school_id={SOUTHBANK}", "n-t1", expect=404)
    await api.call("GET", "/v1/calendar?scope=school", "n-t1", expect=422)

    urls = await api.post("/v1/calendar/feed", "n-t1", None, expect=200)
    feed = await api.stack.gateway.get(urls["trust"].replace("/trust.ics", "/me.ics"))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    parsed = vobject.readOne(feed.text)
    events = sorted(parsed.vevent_list, key=lambda e: e.dtstart.value)
    starts = [e.dtstart.value for e in events]
    assert [s.hour for s in starts] == [9, 9], "09:00 London time on both sides of the change"
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2027, 10, 28, 8, tzinfo=UTC),
        datetime(2027, 11, 4, 9, tzinfo=UTC),
    ]
    assert events[0].location.value == "Room <b>4</b>"
    assert events[1].url.value == "https://meet.example/x"
    assert len({e.uid.value for e in events}) == 2
    school_url = urls["schools"][str(NORTHFIELD)]
    assert (await api.stack.gateway.get(school_url)).status_code == 200
    # Rotating retires the old address at once; a made-up one is 404.
    rotated = await api.post("/v1/calendar/feed", "n-t1", None, expect=200)
    assert (await api.stack.gateway.get(urls["me"])).status_code == 404
    assert (await api.stack.gateway.get(rotated["me"])).status_code == 200
    assert (
        await api.stack.gateway.get("/v1/calendar/feeds/" + "x" * 40 + "/me.ics")
    ).status_code == 404
    await api.call("DELETE", "/v1/calendar/feed", "n-t1", expect=204)
    assert (await api.stack.gateway.get(rotated["me"])).status_code == 404


async def test_erasure_removes_the_persons_requests(api: Api, demo: Stack) -> None:
    p = await programme(api)
    r = await run(api, p["id"])
    open_one = await api.post(
        "/v1/cpd-requests",
        "n-t5",
        {
            "kind": "study",
            "institution": "X",
            "course": "Y",
            "starts_on": "2027-01-10",
            "ends_on": "2027-02-10",
            "cost": "10",
            "rationale": "For my own career plan.",
        },
    )
    booked = await _ask(api, "n-t5", r["id"], rationale="Mine.")
    await api.post(
        f"/v1/cpd-requests/{booked['id']}/decision", "n-head", {"decision": "approve"}, expect=200
    )
    await api.post("/v1/calendar/feed", "n-t5", None, expect=200)
    await api.call("POST", f"/v1/people/{person_id('n-t5')}/erase", "admin", expect=202)
    await demo.settle()
    await api.call("GET", f"/v1/cpd-requests/{open_one['id']}", "admin", expect=404)
    kept = await api.get(f"/v1/cpd-requests/{booked['id']}", "admin")
    assert kept["person_id"] is None and kept["rationale"] is None
    async with demo.session("evaluation") as s:
        left = (
            await s.execute(
                text("SELECT count(*) FROM cpd_requests WHERE person_id = :p"),
                {"p": uuid.UUID(person_id("n-t5"))},
            )
        ).scalar_one()
        feeds = (await s.execute(text("SELECT count(*) FROM calendar_feeds"))).scalar_one()
    assert left == 0 and feeds == 0
    # The school's budget still counts the place that was approved.
    budget = await api.get(f"/v1/budgets/{NORTHFIELD}/2026-27", "n-head")
    assert Decimal(budget["committed"]) == Decimal("250")


async def test_requests_wait_in_the_deciders_follow_ups(api: Api) -> None:
    p = await programme(api)
    r = await run(api, p["id"])
    q = await _ask(api, "n-t2", r["id"])
    study = await api.post(
        "/v1/cpd-requests",
        "n-head",
        {
            "kind": "study",
            "institution": "X",
            "course": "NPQ for heads",
            "starts_on": "2027-01-10",
            "ends_on": "2027-02-10",
            "cost": "0",
        },
    )

    def decisions(follow: dict[str, Any]) -> list[str | None]:
        return [i["request_id"] for i in follow["items"] if i["kind"] == "request_decision"]

    # Leaders of the requester's school and trust admins decide; the requester never does.
    assert decisions(await api.get("/v1/follow-ups", "n-head")) == [q["id"]]
    assert set(decisions(await api.get("/v1/follow-ups", "n-deputy"))) == {q["id"], study["id"]}
    assert set(decisions(await api.get("/v1/follow-ups", "admin"))) == {q["id"], study["id"]}
    assert decisions(await api.get("/v1/follow-ups", "s-head")) == []
    assert decisions(await api.get("/v1/follow-ups", "n-t2")) == []
    schools = {s["school_id"]: s for s in (await api.get("/v1/follow-ups", "admin"))["schools"]}
    assert schools[str(NORTHFIELD)]["request_decision"] == 2
    await api.post(
        f"/v1/cpd-requests/{q['id']}/decision", "n-head", {"decision": "approve"}, expect=200
    )
    assert decisions(await api.get("/v1/follow-ups", "n-head")) == []
