"""Learning communities: a fixed period of half a term to a year, meetings that publish each
attendee's hours, the enquiries, lesson studies and coaching pairs they run, shared work, and
the trust and school views."""

from __future__ import annotations

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD
from cpd_local.stack import Stack

from .conftest import Api, days_ago, member_ids, outbox
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


async def test_period_must_be_half_a_term_to_a_year(demo: Stack, api: Api) -> None:
    for starts, ends, words in (
        (0, -20, "shorter than half a term"),
        (0, -400, "longer than a year"),
    ):
        resp = await api.call(
            "POST",
            COMMUNITIES,
            "n-t1",
            json={
                "name": "Too short or long",
                "school_ids": [str(NORTHFIELD)],
                "learning_priority": "Reading fluency",
                "starts_on": days_ago(starts),
                "ends_on": days_ago(ends),
            },
            expect=422,
        )
        assert words in resp.text
    community = await create_community(api, "n-t1", ["s-t1", "n-ta2"])
    path = f"{COMMUNITIES}/{community['id']}"
    etag = (await api.call("GET", path, "n-t1")).headers["etag"]
    resp = await api.call(
        "PATCH",
        path,
        "n-t1",
        json={"ends_on": days_ago(30)},
        headers={"If-Match": etag},
        expect=422,
    )
    assert resp.json()["errors"][0]["loc"] == "body.ends_on"


async def test_meetings_activities_shares_and_views(demo: Stack, api: Api) -> None:
    community = await create_community(api, "n-t1", ["s-t1", "n-ta2"])
    cid = community["id"]
    base = f"{COMMUNITIES}/{cid}"
    assert community["status"] == "running"
    assert community["mix"] == {"schools": 2, "departments": 2}
    ids = {k: member_id(community, k) for k in ("n-t1", "s-t1", "n-ta2")}
    assert [m["role"] for m in community["members"]] == ["coordinator", "member", "member"]

    # Members read and write; leaders of either school read; others 404.
    for who in ("s-head", "n-head", "admin"):
        await api.call("GET", base, who)
    for who in ("n-t3", "r-admin"):
        await api.call("GET", base, who, expect=404)
    share = {
        "kind": "tool",
        "shared_on": days_ago(10),
        "title": "Reasoning stem cards",
        "audience": "KS2 staff at both schools",
    }
    await api.call("POST", base + "/shares", "s-head", json=share, expect=403)

    meeting_body = {
        "held_on": days_ago(50),
        "duration_minutes": 90,
        "cycle": 1,
        "minutes": "Agreed the first enquiry cycle: sentence stems for reasoning.",
        "shared": "Two book samples from Year 5.",
        "attended": [ids["n-t1"], ids["s-t1"]],
    }
    first = await api.post(base + "/meetings", "s-t1", meeting_body)
    # Attendance in joining order: the coordinator joined first.
    assert (first["hours"], [a["name"] for a in first["attendance"]]) == (
        1.5,
        ["Jess Okafor", "Nadia Rahman"],
    )
    await api.post(
        base + "/meetings",
        "n-t1",
        {
            **meeting_body,
            "held_on": days_ago(36),
            "cycle": 2,
            "attended": [ids["n-t1"], ids["s-t1"], ids["n-ta2"]],
        },
    )
    for bad, loc in (
        ({"held_on": days_ago(61)}, "body.held_on"),
        ({"held_on": days_ago(-1)}, "body.held_on"),
        ({"attended": [ids["n-t1"], cid]}, "body.attended.1"),
    ):
        resp = await api.call(
            "POST", base + "/meetings", "n-t1", json={**meeting_body, **bad}, expect=422
        )
        assert resp.json()["errors"][0]["loc"] == loc
    events = await outbox(demo, catalogue.CommunityMeetingHeld.event_type)
    assert len(events) == 2
    assert {h["person_id"]: h["hours"] for h in events[0]["data"]["hours"]} == {
        pid("n-t1"): 1.5,
        pid("s-t1"): 1.5,
    }
    assert (events[1]["data"]["cycle"], len(events[1]["data"]["hours"])) == (2, 3)
    await demo.settle()
    assert len(await outbox(demo, catalogue.CommunityMeetingHeld.event_type)) == 2

    # Minutes can be completed later, with If-Match.
    mpath = f"{base}/meetings/{first['id']}"
    await api.call("PATCH", mpath, "n-t1", json={"shared": "More"}, expect=428)
    changed = await api.patch(mpath, "n-t1", {"shared": "Two book samples and a stem card."})
    assert changed["shared"] == "Two book samples and a stem card."

    # What it runs: an enquiry per cycle, a lesson study, a coaching pair.
    enquiry = await create_enquiry(api, "n-t1", [])
    linked = await api.post(
        base + "/activities", "n-t1", {"kind": "enquiry", "cycle": 1, "enquiry_id": enquiry["id"]}
    )
    assert (linked["title"], linked["progress"]) == (enquiry["title"], "question")
    got = await api.get(f"{ENQUIRIES}/{enquiry['id']}", "n-t1")
    assert (got["community_id"], got["community_cycle"]) == (cid, 1)
    await api.call(
        "POST",
        base + "/activities",
        "n-t1",
        json={"kind": "enquiry", "cycle": 2, "enquiry_id": enquiry["id"]},
        expect=409,
    )
    # An enquiry the caller cannot see is 404, as anywhere else.
    hidden = await create_enquiry(api, "n-t6", [])
    await api.call(
        "POST",
        base + "/activities",
        "s-t1",
        json={"kind": "enquiry", "cycle": 1, "enquiry_id": hidden["id"]},
        expect=404,
    )
    study = await api.create_study("n-t1", {"n-t2": "observer"})
    await api.post(
        base + "/activities",
        "n-t1",
        {"kind": "lesson_study", "cycle": 2, "lesson_study_id": study["id"]},
    )
    await api.post(
        base + "/activities",
        "n-t1",
        {
            "kind": "peer_coaching",
            "cycle": 2,
            "coach_member_id": ids["s-t1"],
            "coachee_member_id": ids["n-ta2"],
            "focus": "Questioning that asks for reasons",
        },
    )
    await api.call(
        "POST",
        base + "/activities",
        "n-t1",
        json={"kind": "peer_coaching", "cycle": 2, "enquiry_id": enquiry["id"]},
        expect=422,
    )
    await api.post(base + "/shares", "n-ta2", share)

    # The enquiry moves on; the views count it by stage.
    await api.post(f"{ENQUIRIES}/{enquiry['id']}/start", "n-t1", expect=200)
    data = await add_data(api, enquiry["id"], "n-t1")
    await add_finding(api, enquiry["id"], "n-t1", [data["id"]])
    other = await create_enquiry(api, "n-t3", [])
    view = await api.get(f"{COMMUNITIES}/overview", "admin")
    [summary] = view["communities"]
    assert summary == {
        **summary,
        "community_id": cid,
        "status": "running",
        "members": 3,
        "meetings": 2,
        "last_met_on": days_ago(36),
        "mean_days_between_meetings": 14.0,
        "cycles": 2,
        "enquiries_by_stage": {"analysis": 1},
        "lesson_studies": 1,
        "coaching_pairs": 1,
        "shares": 1,
    }
    assert view["totals"] == {
        **view["totals"],
        "communities": 1,
        "running": 1,
        "members": 3,
        "meetings": 2,
        "enquiries_by_stage": {"analysis": 1, "question": 2},
    }
    schools = {s["school_name"]: s for s in view["schools"]}
    assert set(schools) == {"Northfield Primary", "Southbank Academy"}
    assert schools["Northfield Primary"]["enquiries_by_stage"] == {"analysis": 1, "question": 2}
    assert schools["Southbank Academy"]["enquiries_by_stage"] == {}
    # A Southbank leader sees Southbank only; staff get 403; another trust sees nothing.
    south = await api.get(f"{COMMUNITIES}/overview", "s-head")
    assert [s["school_name"] for s in south["schools"]] == ["Southbank Academy"]
    assert south["totals"]["enquiries_by_stage"] == {}
    await api.call("GET", f"{COMMUNITIES}/overview", "n-t1", expect=403)
    other_trust = await api.get(f"{COMMUNITIES}/overview", "r-admin")
    assert (other_trust["totals"]["communities"], other_trust["communities"]) == (0, [])
    assert other["id"]

    # A community that has met is a record.
    etag = (await api.call("GET", base, "n-t1")).headers["etag"]
    await api.call("DELETE", base, "n-t1", headers={"If-Match": etag}, expect=409)
    got = await api.get(base, "n-t1")
    assert (got["meetings_held"], got["cycles"]) == (2, 2)
    # The lesson study's own members are untouched by the link.
    assert member_ids(await api.get(f"/{study['id']}", "n-t1"))
