"""The six components as stages: each record only once the stage it rests on is reached (clear
409 problems), events emitted once, hours per member, replication and reporting after
completion, and the report and process health."""

from __future__ import annotations

from cpd_common.events import catalogue
from cpd_local.stack import Stack

from .conftest import Api, days_ago, outbox
from .enquiry_helpers import ENQUIRIES, add_data, add_finding, create_enquiry, member_id, pid


async def test_stage_rules_and_lifecycle(demo: Stack, api: Api) -> None:
    enquiry = await create_enquiry(api, "n-t1", ["n-t2", "n-t3"])
    eid = enquiry["id"]
    base = f"{ENQUIRIES}/{eid}"
    assert (enquiry["status"], enquiry["stage"], enquiry["stages_reached"]) == (
        "planning",
        "question",
        ["question"],
    )
    assert {m["name"]: m["role"] for m in enquiry["members"]} == {
        "Jess Okafor": "coordinator",
        "Sam Patel": "member",
        "Hannah Lewis": "member",
    }

    # No data before the enquiry starts.
    resp = await api.call(
        "POST",
        base + "/data",
        "n-t2",
        json={"method": "observation", "collected_on": days_ago(1), "summary": "s"},
        expect=409,
    )
    problem = resp.json()
    assert problem["type"].endswith("/enquiry-stage-rule")
    assert "start the enquiry" in problem["detail"]
    assert resp.headers["content-type"].startswith("application/problem+json")

    started = await api.post(base + "/start", "n-t1", expect=200)
    assert started["status"] == "active"
    await api.call("POST", base + "/start", "n-t1", expect=409)
    [event] = await outbox(demo, catalogue.EnquiryStarted.event_type)
    assert event["subject"] == eid
    assert event["data"]["question"] == enquiry["question"]
    assert {(m["person_id"], m["role"]) for m in event["data"]["members"]} == {
        (pid("n-t1"), "coordinator"),
        (pid("n-t2"), "member"),
        (pid("n-t3"), "member"),
    }

    # No analysis before data; no validity checking, replication, reporting or completion
    # before analysis.
    finding = {"statement": "x", "data_entry_ids": [eid]}
    resp = await api.call("POST", base + "/findings", "n-t1", json=finding, expect=409)
    assert "reaches data collection" in resp.json()["detail"]
    await add_data(api, eid, "n-t2", method="observation", summary="Observed two lessons.")
    check = {
        "checked_on": days_ago(1),
        "interpreted_by": "The Year 6 team",
        "others_agree": "partly",
        "counts_tally": "yes",
    }
    for path, body in (
        ("/validity-checks", check),
        ("/disseminations", {"held_on": days_ago(1), "audience": "Staff", "form": "poster"}),
    ):
        resp = await api.call("POST", base + path, "n-t1", json=body, expect=409)
        assert resp.json()["errors"][0]["msg"].endswith("needs analysis")
    resp = await api.call("POST", base + "/complete", "n-t1", expect=409)
    assert "before the enquiry reaches analysis" in resp.json()["detail"]
    replicate_body = {
        "title": "Replicate",
        "school_ids": enquiry["school_ids"],
        "pupil_group": "Year 5 pupils in the other class.",
        "question": enquiry["question"],
        "replicates_enquiry_id": eid,
    }
    resp = await api.call("POST", ENQUIRIES, "n-t1", json=replicate_body, expect=409)
    assert "replicate it" in resp.json()["detail"]

    # A finding rests on this enquiry's own data.
    data = await add_data(api, eid, "n-t3")
    assert (data["source"], data["recorded_by_name"]) == ("primary", "Hannah Lewis")
    other = await create_enquiry(api, "n-t6", [])
    await api.call(
        "POST",
        base + "/findings",
        "n-t1",
        json={"statement": "x", "data_entry_ids": [other["id"]]},
        expect=422,
    )
    found = await add_finding(api, eid, "n-t1", [data["id"]])
    assert found["data_entry_ids"] == [data["id"]]
    await api.post(base + "/validity-checks", "n-t2", check)
    await api.post(
        base + "/pupil-voice",
        "n-t2",
        {
            "kind": "co_design",
            "heard_on": days_ago(1),
            "pupil_group": "Five pupils from the focus group",
            "group_size": 5,
            "summary": "They asked for the stems on a card, not on the board.",
        },
    )
    # Pupil voice is group-level.
    await api.call(
        "POST",
        base + "/pupil-voice",
        "n-t2",
        json={
            "kind": "views",
            "heard_on": days_ago(1),
            "pupil_group": "One pupil",
            "group_size": 1,
            "summary": "x",
        },
        expect=422,
    )
    ids = {k: member_id(enquiry, k) for k in ("n-t1", "n-t2", "n-t3")}
    await api.post(
        base + "/time-records",
        "n-t1",
        {
            "kind": "analysis",
            "held_on": days_ago(1),
            "attendance": [
                {"member_id": ids["n-t1"], "minutes": 90},
                {"member_id": ids["n-t2"], "minutes": 60},
            ],
        },
    )

    # Replication: a follow-up enquiry linked to this one; whether the conclusions held is
    # only known once the follow-up has analysed its data.
    follow_up = await api.post(ENQUIRIES, "n-t2", replicate_body)
    assert follow_up["replicates_enquiry_id"] == eid
    [replication] = (await api.get(base + "/replications", "n-t1"))["items"]
    assert (replication["follow_up_id"], replication["conclusions_held"]) == (
        follow_up["id"],
        "pending",
    )
    rpath = f"{base}/replications/{replication['id']}"
    resp = await api.call("GET", rpath, "n-t1")
    await api.call(
        "PATCH",
        rpath,
        "n-t1",
        json={"conclusions_held": "held"},
        headers={"If-Match": resp.headers["etag"]},
        expect=409,
    )

    done = await api.post(base + "/complete", "n-t1", expect=200)
    assert done["status"] == "completed"
    assert done["stages_reached"] == [
        "question",
        "data_collection",
        "analysis",
        "validity_checking",
        "replication",
    ]
    assert done["replicated_by"] == [follow_up["id"]]
    [event] = await outbox(demo, catalogue.EnquiryCompleted.event_type)
    assert event["data"]["stages_reached"] == done["stages_reached"]
    assert {h["person_id"]: h["hours"] for h in event["data"]["hours"]} == {
        pid("n-t1"): 1.5,
        pid("n-t2"): 1.0,
        pid("n-t3"): 0.0,
    }
    assert event["data"]["findings"] == [found["statement"]]

    # A completed enquiry is a record; reporting still comes afterwards.
    resp = await api.call(
        "POST",
        base + "/data",
        "n-t1",
        json={"method": "interview", "collected_on": days_ago(0), "summary": "late"},
        expect=409,
    )
    assert resp.json()["type"].endswith("/enquiry-completed")
    await api.post(
        base + "/disseminations",
        "n-t1",
        {
            "held_on": days_ago(0),
            "audience": "Staff meeting",
            "form": "sharing_session",
            "beyond_school": True,
            "what_changed": "Every Year 5 class now uses the stems.",
        },
    )
    health = await api.get(base + "/process-health", "n-t1")
    assert health == {
        **health,
        "stage": "completed",
        "data_sources_used": ["observation", "book_sample"],
        "primary_data": 2,
        "findings_with_alternatives": 1,
        "validity_checked": True,
        "counts_tallied": True,
        "replicated": True,
        "replication_outcomes": ["pending"],
        "disseminated": True,
        "disseminated_beyond_school": True,
        "pupil_voice_entries": 1,
        "total_hours": 2.5,
    }
    # Still exactly one of each event.
    await demo.settle()
    assert len(await outbox(demo, catalogue.EnquiryStarted.event_type)) == 1
    assert len(await outbox(demo, catalogue.EnquiryCompleted.event_type)) == 1


async def test_report_escapes_everything_users_wrote(demo: Stack, api: Api) -> None:
    attack = '<script>alert("x")</script>'
    enquiry = await create_enquiry(
        api,
        "n-t1",
        [],
        title=f"Fractions {attack}",
        question=f"How can we improve Year 5 pupils' fractions {attack}?",
    )
    eid = enquiry["id"]
    await api.post(f"{ENQUIRIES}/{eid}/start", "n-t1", expect=200)
    data = await add_data(
        api,
        eid,
        "n-t1",
        summary=f"<img src=x onerror=alert(1)> {attack}",
        attachments=[{"title": attack, "reference": "javascript:<b>x</b>"}],
    )
    await add_finding(api, eid, "n-t1", [data["id"]], statement=f"Finding {attack}")
    resp = await api.call("GET", f"{ENQUIRIES}/{eid}/report", "n-t1")
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.headers["etag"]
    body = resp.text
    assert "<script>" not in body and "<img" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "Draft: the enquiry is still collecting and analysing data." in body
    assert "Rests on: book sample of" in body
    html = await api.call("GET", f"{ENQUIRIES}/{eid}/report.html", "n-head")
    assert html.text == body
