"""Activities: record, read, list with filters, change with ETags, cancel, delete; tenancy
and roles."""

from __future__ import annotations

from typing import Any

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, SOUTHBANK
from cpd_local.stack import Stack

from .conftest import Api, outbox, person_id


async def test_record_and_read_an_activity(demo: Stack, api: Api) -> None:
    resp = await api.call(
        "POST",
        "",
        "n-head",
        expect=201,
        json={
            "title": "Questioning for reasoning in KS2 maths",
            "kind": "course",
            "school_ids": [str(NORTHFIELD)],
            "subject_specific": True,
            "subject": "Mathematics",
            "sessions": [
                {"title": "Day 1", "held_on": "2025-10-06", "duration_minutes": 360},
                {"title": "Day 2", "held_on": "2025-12-01", "duration_minutes": 330},
            ],
            "costs": {"fees": "450.00", "materials": "20.50", "supply_cover": "360"},
            "release_time_hours": 12,
            "intent": "Pupils explain their reasoning in full sentences.",
            "gap_task": "Plan and teach two lessons using the question stems.",
            "gap_task_due_on": "2025-11-14",
        },
    )
    created = resp.json()
    assert resp.headers["location"] == f"/v1/activities/{created['id']}"
    assert created["costs"] == {
        "fees": 450.0,
        "materials": 20.5,
        "supply_cover": 360.0,
        "total": 830.5,
    }
    assert created["session_hours"] == 11.5
    assert created["starts_on"] == "2025-10-06" and created["ends_on"] == "2025-12-01"
    assert created["sustained"]["pattern"] == "sustained"
    assert "8 weeks" in created["sustained"]["reason"]
    assert created["source"] == "manual" and created["status"] == "active"
    assert created["participant_count"] == 0  # a leader records; they do not join
    got = await api.call("GET", f"/{created['id']}", "n-head")
    assert got.json() == created and got.headers["etag"] == resp.headers["etag"]
    [event] = await outbox(demo, catalogue.ActivityRecorded.event_type)
    data = catalogue.ActivityRecorded.model_validate(event["data"])
    assert data.activity_id.hex == created["id"].replace("-", "")
    assert data.sustained and data.total_cost == 830.5 and data.subject == "Mathematics"


async def test_patch_and_delete_need_if_match(api: Api) -> None:
    activity = await api.create_activity()
    path = f"/v1/activities/{activity['id']}"
    await api.call("PATCH", path, "n-head", json={"title": "New"}, expect=428)
    await api.call(
        "PATCH", path, "n-head", json={"title": "New"}, headers={"If-Match": '"stale"'}, expect=412
    )
    await api.call("DELETE", path, "n-head", expect=428)
    await api.call("DELETE", path, "n-head", headers={"If-Match": '"stale"'}, expect=412)
    changed = await api.patch(
        path,
        "n-head",
        {
            "title": "Questioning for reasoning (KS2)",
            "sessions": [{**activity["sessions"][0], "duration_minutes": 300}],
            "subject_specific": False,
        },
    )
    assert changed["title"] == "Questioning for reasoning (KS2)"
    assert changed["subject"] is None and changed["subject_specific"] is False
    assert [s["id"] for s in changed["sessions"]] == [activity["sessions"][0]["id"]]
    assert changed["session_hours"] == 5.0
    assert changed["sustained"]["pattern"] == "one_off"
    await api.delete(path, "n-head")
    await api.call("GET", path, "n-head", expect=404)


async def test_bad_input_is_a_clear_422(api: Api) -> None:
    await api.create_activity(subject_specific=True, subject=None, expect=422)
    await api.create_activity(subject_specific=False, subject="Maths", expect=422)
    await api.create_activity(kind="webinar", expect=422)
    await api.create_activity(school_ids=[person_id("n-t1")], expect=422)
    await api.create_activity(need_ids=[person_id("n-t1")], expect=422)
    await api.create_activity(
        sessions=[{"held_on": "2025-10-06", "duration_minutes": 0}], expect=422
    )
    await api.create_activity(costs={"fees": -1}, expect=422)
    await api.create_activity(gap_task_due_on="2025-11-01", expect=422)
    await api.create_activity(surprise=True, expect=422)
    # A leader of Northfield cannot record an activity for Southbank only.
    await api.create_activity(school_ids=[str(SOUTHBANK)], expect=422)


async def test_cancel_keeps_a_record_that_no_longer_changes(demo: Stack, api: Api) -> None:
    activity = await api.create_activity()
    cancelled = await api.post(
        f"/{activity['id']}/cancel", "n-head", {"reason": "Provider withdrew"}, expect=200
    )
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "Provider withdrew"
    await api.post(f"/{activity['id']}/cancel", "n-head", expect=409)
    await api.patch(f"/{activity['id']}", "n-head", {"title": "x"}, expect=409)
    await api.add(activity["id"], "n-head", "n-t1", expect=409)
    events = await outbox(demo, catalogue.ActivityRecorded.event_type)
    assert [e["data"]["status"] for e in events] == ["active", "cancelled"]


async def test_other_trust_and_roles(api: Api) -> None:
    activity = await api.create_activity()
    path = f"/{activity['id']}"
    for who in ("r-admin", "r-t1"):
        await api.call("GET", path, who, expect=404)
        await api.call("GET", path + "/participants", who, expect=404)
        await api.call("POST", path + "/cancel", who, expect=404)
        listed = await api.get("", who)
        assert activity["id"] not in [a["id"] for a in listed["items"]]
    # A teacher who does not take part does not see it; a Southbank leader neither.
    await api.call("GET", path, "n-t2", expect=404)
    await api.call("GET", path, "s-head", expect=404)
    # Governors never see activities.
    await api.call("GET", "", "n-gov", expect=403)
    await api.call("GET", path, "n-gov", expect=403)
    # The trust admin sees and changes it.
    await api.patch(path, "admin", {"focus": "Reasoning"})
    # A participant reads but cannot change it.
    await api.add(activity["id"], "n-head", "n-t2")
    await api.call("GET", path, "n-t2")
    await api.patch(path, "n-t2", {"title": "Mine now"}, expect=403)


async def test_staff_record_their_own_cpd(api: Api) -> None:
    own = await api.create_activity(
        "n-t1", title="Online course on phonics", kind="online_course", subject="Phonics"
    )
    assert own["participant_count"] == 1
    [me] = (await api.get(f"/{own['id']}/participants", "n-t1"))["items"]
    assert me["person_id"] == person_id("n-t1") and me["hours"] == 0.0
    # They add only themselves.
    await api.add(own["id"], "n-t1", "n-t2", expect=403)
    # Their leader sees it and can add colleagues.
    await api.add(own["id"], "n-head", "n-t2")


async def test_list_filters(demo: Stack, api: Api) -> None:
    a = await api.create_activity(title="Questioning in maths")
    provider = await api.post(
        "/v1/providers", "n-head", {"name": "Calm Classrooms", "kind": "external"}
    )
    b = await api.create_activity(
        title="Behaviour INSET",
        kind="inset",
        subject_specific=False,
        subject=None,
        sessions=[{"held_on": "2026-01-05", "duration_minutes": 180}],
        provider_id=provider["id"],
    )
    c = await api.create_activity(
        "admin",
        title="Southbank science network",
        school_ids=[str(SOUTHBANK)],
        sessions=[{"held_on": "2026-03-02", "duration_minutes": 90}],
    )
    await api.add(b["id"], "n-head", "n-t1")

    async def ids(who: str, query: str) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            page = await api.get(f"?{query}&limit=1" + (f"&cursor={cursor}" if cursor else ""), who)
            found += [x["id"] for x in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    assert await ids("admin", "") == [a["id"], b["id"], c["id"]]
    assert await ids("n-head", "") == [a["id"], b["id"]]
    assert await ids("admin", f"school_id={SOUTHBANK}") == [c["id"]]
    assert await ids("admin", "kind=inset") == [b["id"]]
    assert await ids("admin", f"provider_id={provider['id']}") == [b["id"]]
    assert await ids("admin", "date_from=2025-12-02&date_to=2026-02-01") == [b["id"]]
    assert await ids("admin", "date_from=2025-11-01&date_to=2025-11-30") == [a["id"]]
    assert await ids("admin", f"person_id={person_id('n-t1')}") == [b["id"]]
    assert await ids("admin", "q=INSET") == [b["id"]]
    assert await ids("admin", "q=science%20NET") == [c["id"]]
    assert await ids("admin", "q=%25") == []
    assert await ids("n-t1", "") == [b["id"]]
    await api.call("GET", "?date_from=2026-02-01&date_to=2026-01-01", "admin", expect=422)
    await api.call("GET", "?cursor=!!", "admin", expect=422)


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in items]


async def test_reading_an_activity_is_one_sql_round_trip(demo: Stack, api: Api) -> None:
    from sqlalchemy import event

    activity = await api.create_activity()
    await api.add(activity["id"], "n-head", "n-t1")
    path = f"/{activity['id']}"
    await api.get(path, "n-head")  # warm: token keys, connections
    engine = demo.services["evaluation"].app.state.read_engine.sync_engine
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        got = await api.get(path, "n-head")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert got["participant_count"] == 1 and len(got["sessions"]) == 2
    assert len(statements) == 1, statements
