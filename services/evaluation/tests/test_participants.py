"""Participants: add once, attendance per session, hours (recorded, or sessions attended),
the delegate's impact report, and the events that carry participation."""

from __future__ import annotations

from cpd_common.events import catalogue
from cpd_local.stack import Stack

from .conftest import Api, outbox, person_id


async def test_hours_follow_attendance_unless_recorded(demo: Stack, api: Api) -> None:
    activity = await api.create_activity(
        sessions=[
            {"title": "Day 1", "held_on": "2025-10-06", "duration_minutes": 360},
            {"title": "Day 2", "held_on": "2025-12-01", "duration_minutes": 330},
            {"title": "Twilight", "held_on": "2026-01-12", "duration_minutes": 90},
        ]
    )
    aid = activity["id"]
    s1, s2, s3 = (s["id"] for s in activity["sessions"])
    jess = await api.add(aid, "n-head", "n-t1")
    sam = await api.add(aid, "n-head", "n-t2")
    hannah = await api.add(aid, "n-head", "n-t3", hours="4.5")
    await api.add(aid, "n-head", "n-t1", expect=409)
    await api.add(aid, "n-head", "0190f0c4-0000-7000-8000-000000000009", expect=422)
    await api.add(aid, "n-head", "r-t1", expect=422)  # another trust's person

    marks = [
        {"participant_id": jess["id"], "session_id": s1, "attended": True},
        {"participant_id": jess["id"], "session_id": s2, "attended": True, "minutes": 240},
        {"participant_id": jess["id"], "session_id": s3, "attended": False},
        {"participant_id": sam["id"], "session_id": s1, "attended": True},
        {"participant_id": hannah["id"], "session_id": s1, "attended": True},
    ]
    grid = await api.put(f"/{aid}/attendance", "n-head", {"marks": marks})
    assert len(grid["items"]) == 5
    # Marking again sets, never adds.
    await api.put(f"/{aid}/attendance", "n-head", {"marks": marks})
    people = {p["person_id"]: p for p in (await api.get(f"/{aid}/participants", "n-head"))["items"]}
    assert people[person_id("n-t1")]["hours"] == round((360 + 240) / 60, 2)
    assert people[person_id("n-t1")]["hours_basis"] == "attendance"
    assert people[person_id("n-t2")]["hours"] == 6.0
    assert people[person_id("n-t3")]["hours"] == 4.5
    assert people[person_id("n-t3")]["hours_basis"] == "recorded"
    assert people[person_id("n-t1")]["name"] == "Jess Okafor"

    # Back to attendance for Hannah.
    path = f"/{aid}/participants/{hannah['id']}"
    changed = await api.patch(f"/v1/activities{path}", "n-head", {"hours": None})
    assert changed["hours"] == 6.0 and changed["hours_basis"] == "attendance"

    # Bad marks lose nothing and say what is wrong.
    resp = await api.call(
        "PUT",
        f"/{aid}/attendance",
        "n-head",
        json={
            "marks": [{"participant_id": jess["id"], "session_id": jess["id"], "attended": True}]
        },
        expect=422,
    )
    assert resp.json()["errors"][0]["loc"] == "body.marks.0.session_id"

    # A participant sees only their own entry.
    mine = (await api.get(f"/{aid}/participants", "n-t1"))["items"]
    assert [p["id"] for p in mine] == [jess["id"]]
    await api.call("GET", f"/{aid}/participants/{sam['id']}", "n-t1", expect=404)

    events = await outbox(demo, catalogue.ParticipationRecorded.event_type)
    latest = {}
    for e in events:
        latest[e["data"]["participation_id"]] = e["data"]
    assert latest[jess["id"]]["hours"] == 10.0
    assert latest[hannah["id"]]["hours"] == 6.0

    await api.delete(f"/v1/activities{path}", "n-head")
    events = await outbox(demo, catalogue.ParticipationRecorded.event_type)
    assert events[-1]["data"]["removed"] is True


async def test_training_with_a_gap_task(api: Api) -> None:
    activity = await api.create_activity(
        intent="Pupils explain their reasoning in full sentences.",
        gap_task="Teach two lessons with the question stems and bring pupil work.",
        gap_task_due_on="2025-11-14",
    )
    aid = activity["id"]
    delegate = await api.add(aid, "n-head", "n-t1")
    path = f"/{aid}/participants/{delegate['id']}/impact-report"
    report = {
        "report": "Most of my class now justify answers; two pupils still guess.",
        "gap_task_done_on": "2025-11-10",
    }
    await api.put(path, "n-head", report, expect=403)  # a leader reads, never writes it
    await api.put(path, "n-t2", report, expect=404)
    written = await api.put(path, "n-t1", report)
    assert written["impact_report"] == report["report"]
    assert written["gap_task_done_on"] == "2025-11-10" and written["impact_reported_at"]
    seen = await api.get(f"/{aid}/participants/{delegate['id']}", "n-head")
    assert seen["impact_report"] == report["report"]

    noted = await api.put(
        f"/{aid}/impact-note",
        "n-head",
        {"note": "By spring, reasoning answers in Year 5 books were longer and more precise."},
    )
    assert noted["impact_note"].startswith("By spring") and noted["impact_noted_at"]
    assert noted["gap_task_due_on"] == "2025-11-14"
    await api.put(f"/{aid}/impact-note", "n-t1", {"note": "x"}, expect=403)
