"""Right to erasure in enquiries and learning communities: the member becomes an anonymous
former member, their name leaves the free text, and the record (data, hours, attendance)
keeps its shape; later events carry the former member without a person id."""

from __future__ import annotations

from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_local.stack import Stack

from .conftest import Api, days_ago, outbox
from .enquiry_helpers import (
    COMMUNITIES,
    ENQUIRIES,
    add_data,
    add_finding,
    create_community,
    create_enquiry,
    member_id,
    pid,
)

ERASED = PEOPLE_BY_KEY["n-t2"]  # Sam Patel


async def test_erasure_in_enquiries_and_communities(demo: Stack, api: Api) -> None:
    enquiry = await create_enquiry(api, "n-t1", ["n-t2"])
    eid = enquiry["id"]
    base = f"{ENQUIRIES}/{eid}"
    await api.post(base + "/start", "n-t1", expect=200)
    data = await add_data(
        api, eid, "n-t2", summary="Sam Patel collected the books; SAM PATEL marked them."
    )
    await add_finding(
        api, eid, "n-t1", [data["id"]], statement="As Sam Patel noticed, stems helped."
    )
    await api.post(
        base + "/time-records",
        "n-t1",
        {
            "kind": "data_collection",
            "held_on": days_ago(1),
            "description": "Book look with Sam Patel",
            "attendance": [{"member_id": member_id(enquiry, "n-t2"), "minutes": 120}],
        },
    )
    community = await create_community(api, "n-t1", ["n-t2"])
    cbase = f"{COMMUNITIES}/{community['id']}"
    meeting = await api.post(
        cbase + "/meetings",
        "n-t1",
        {
            "held_on": days_ago(10),
            "duration_minutes": 60,
            "minutes": "Sam Patel presented the book samples.",
            "attended": [member_id(community, "n-t1"), member_id(community, "n-t2")],
        },
    )

    resp = await demo.gateway.post(
        f"/v1/people/{ERASED.id}/erase", headers=await api.headers("admin")
    )
    assert resp.status_code == 202, resp.text
    await demo.settle()

    got = await api.get(base, "n-t1")
    former = next(m for m in got["members"] if m["id"] == member_id(enquiry, "n-t2"))
    assert (former["person_id"], former["name"], former["former_member"]) == (
        None,
        "Former member",
        True,
    )
    entry = await api.get(f"{base}/data/{data['id']}", "n-t1")
    assert entry["summary"] == "a former member collected the books; a former member marked them."
    assert entry["recorded_by_name"] == "Former member"
    [finding] = (await api.get(base + "/findings", "n-t1"))["items"]
    assert finding["statement"] == "As a former member noticed, stems helped."
    hours = {m["name"]: m["hours"] for m in (await api.get(base + "/hours", "n-t1"))["members"]}
    assert hours == {"Jess Okafor": 0.0, "Former member": 2.0}
    got_meeting = await api.get(f"{cbase}/meetings/{meeting['id']}", "n-t1")
    assert got_meeting["minutes"] == "a former member presented the book samples."
    assert [a["name"] for a in got_meeting["attendance"]] == ["Jess Okafor", "Former member"]
    members = (await api.get(cbase + "/members", "n-t1"))["items"]
    assert [m["name"] for m in members] == ["Jess Okafor", "Former member"]

    async with demo.session("lessonstudy") as session:
        for table in ("enquiry_members", "community_members"):
            count = await session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE person_id = :id"), {"id": ERASED.id}
            )
            assert count == 0
        leftovers = await session.scalar(
            text(
                "SELECT (SELECT count(*) FROM enquiry_data_entries WHERE summary ILIKE '%patel%')"
                " + (SELECT count(*) FROM enquiry_time_records WHERE description ILIKE '%patel%')"
                " + (SELECT count(*) FROM community_meetings WHERE minutes_text ILIKE '%patel%')"
            )
        )
        assert leftovers == 0

    # The completed event carries the former member's hours without a person id.
    await api.post(base + "/complete", "n-t1", expect=200)
    [event] = await outbox(demo, catalogue.EnquiryCompleted.event_type)
    assert {h["person_id"]: h["hours"] for h in event["data"]["hours"]} == {
        pid("n-t1"): 0.0,
        None: 2.0,
    }
