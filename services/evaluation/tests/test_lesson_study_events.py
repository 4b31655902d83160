"""Lesson studies arrive by events: one activity per study, its members as participants,
a session per completed research lesson and the hours the group recorded; every event
delivered twice (and replayed past the inbox) changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text

from cpd_common.events import CATALOGUE
from cpd_evaluation.models import Activity, InboxEntry, Participant, SourceHours
from cpd_lessonstudy import demo as lessonstudy_demo
from cpd_lessonstudy.models import OutboxEvent as LessonStudyOutbox
from cpd_local.stack import Stack

from .conftest import Api
from .demos import lesson_studies_arrived


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """These tests follow lesson studies from the lesson study service."""
    return ("gateway", "lessonstudy", "evaluation")


async def _snapshot(api: Api) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in (await api.get("?kind=lesson_study", "admin"))["items"]:
        people = (await api.get(f"/{a['id']}/participants?limit=200", "admin"))["items"]
        out[a["source_id"]] = {
            "activity": a["id"],
            "title": a["title"],
            "sessions": [(s["title"], s["held_on"]) for s in a["sessions"]],
            "hours": {p["person_id"]: (p["hours"], p["hours_basis"], p["role"]) for p in people},
        }
    return out


async def _redeliver_lesson_study_events(demo: Stack) -> int:
    """Publishes every lesson study event again under a fresh broker message id (so JetStream
    does not drop it as a duplicate), as a redelivery or a replayed stream would."""
    async with demo.session("lessonstudy") as session:
        envelopes = [
            r.envelope
            for r in await session.scalars(
                select(LessonStudyOutbox).order_by(LessonStudyOutbox.seq)
            )
        ]
    js = await demo.js()
    for envelope in envelopes:
        await js.publish(
            CATALOGUE[envelope["type"]].nats_subject,
            json.dumps(envelope).encode(),
            headers={"Nats-Msg-Id": str(uuid.uuid4())},
        )
    await demo.settle()
    return len(envelopes)


async def _counts(demo: Stack) -> tuple[int, int, int]:
    async with demo.session("evaluation") as session:
        return (
            await session.scalar(select(func.count()).select_from(Activity)) or 0,
            await session.scalar(select(func.count()).select_from(Participant)) or 0,
            await session.scalar(select(func.count()).select_from(SourceHours)) or 0,
        )


async def test_lesson_studies_become_activities_with_their_hours(demo: Stack, api: Api) -> None:
    await lesson_studies_arrived(demo)
    snapshot = await _snapshot(api)
    studies = {s["title"]: s for s in (await api.get("/v1/lesson-studies", "admin"))["items"]}
    assert set(snapshot) == {s["id"] for s in studies.values()}

    done = studies[lessonstudy_demo.FRACTIONS_TITLE]
    running = studies[lessonstudy_demo.WRITING_TITLE]
    # A completed study: each member's total from the study's time records.
    recorded = await api.get(f"/v1/lesson-studies/{done['id']}/hours", "admin")
    expected = {m["person_id"]: m["hours"] for m in recorded["members"] if m["person_id"]}
    got = snapshot[done["id"]]
    assert {p: h for p, (h, _, _) in got["hours"].items()} == expected
    assert {basis for _, basis, _ in got["hours"].values()} == {"lesson_study"}
    assert got["title"] == lessonstudy_demo.FRACTIONS_TITLE
    lessons = (await api.get(f"/v1/lesson-studies/{done['id']}/research-lessons", "admin"))["items"]
    assert got["sessions"] == [
        (f"Research lesson {lesson['cycle']}", lesson["taught_on"])
        for lesson in sorted(lessons, key=lambda lesson: lesson["taught_on"])
    ]
    roles = {m["person_id"]: m["role"] for m in done["members"] if m["person_id"]}
    assert {p: r for p, (_, _, r) in got["hours"].items()} == roles

    # A study in its second cycle: only the completed lesson's time counts so far,
    # computed here straight from the lesson study's own tables.
    async with demo.session("lessonstudy") as session:
        rows = await session.execute(
            text(
                "SELECT m.person_id, round(sum(mm.minutes) / 60.0, 2) FROM member_minutes mm"
                " JOIN time_records t ON t.id = mm.time_record_id"
                " JOIN research_lessons l ON l.id = t.research_lesson_id"
                " JOIN study_members m ON m.id = mm.member_id"
                " WHERE t.study_id = :study AND l.status = 'completed' GROUP BY m.person_id"
            ),
            {"study": running["id"]},
        )
        so_far = {str(person): float(hours) for person, hours in rows}
    hours_so_far = {p: h for p, (h, _, _) in snapshot[running["id"]]["hours"].items() if h}
    assert hours_so_far == so_far and so_far

    before = await _counts(demo)
    # Every event delivered a second time: the inbox drops them.
    assert await _redeliver_lesson_study_events(demo) >= 4
    assert await _snapshot(api) == snapshot
    assert await _counts(demo) == before
    # Replayed past the inbox (a rebuilt projection): the upserts still change nothing.
    async with demo.session("evaluation") as session:
        await session.execute(
            delete(InboxEntry).where(InboxEntry.consumer == "evaluation-lessonstudy")
        )
        await session.commit()
    await _redeliver_lesson_study_events(demo)
    assert await _snapshot(api) == snapshot
    assert await _counts(demo) == before


async def test_a_lesson_study_is_kept_by_the_lesson_study_service(demo: Stack, api: Api) -> None:
    await lesson_studies_arrived(demo)
    [activity, *_] = (await api.get("?kind=lesson_study", "admin"))["items"]
    path = f"/{activity['id']}"
    await api.patch(path, "admin", {"title": "Renamed"}, expect=409)
    await api.delete(path, "admin", expect=409)
    # Costs and needs are the school's to add.
    changed = await api.patch(path, "admin", {"costs": {"supply_cover": "540"}})
    assert changed["costs"]["total"] == 540.0
    changed = await api.patch(path, "admin", {"costs": {"fees": "60.5"}})
    assert changed["costs"] == {
        "fees": 60.5,
        "materials": 0.0,
        "supply_cover": 540.0,
        "total": 600.5,
    }
    # Members see their study's activity.
    member = (await api.get(f"{path}/participants", "admin"))["items"][0]
    mine = await api.get(f"?person_id={member['person_id']}", member["person_id"])
    assert activity["id"] in [a["id"] for a in mine["items"]]
