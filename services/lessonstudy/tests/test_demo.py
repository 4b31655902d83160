"""The demo lesson studies (``make up``): seeded through the service functions, read back
through the API as the demo logins would."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from cpd_common.events import catalogue
from cpd_lessonstudy import demo as lessonstudy_demo
from cpd_lessonstudy.models import LessonStudy
from cpd_local.stack import Stack

from .conftest import Api, outbox
from .demos import demo_seeded_twice


async def test_demo_studies_read_back_through_the_api(demo: Stack, api: Api) -> None:
    await demo_seeded_twice(demo)
    async with demo.session("lessonstudy") as session:  # the second run changed nothing
        assert await session.scalar(select(func.count()).select_from(LessonStudy)) == 2

    # The Northfield teacher login belongs to both studies.
    studies = {s["title"]: s for s in (await api.get("", "n-t1"))["items"]}
    assert set(studies) == {lessonstudy_demo.FRACTIONS_TITLE, lessonstudy_demo.WRITING_TITLE}
    done = studies[lessonstudy_demo.FRACTIONS_TITLE]
    assert done["status"] == "shared"
    assert done["cycles_completed"] == 3
    running = studies[lessonstudy_demo.WRITING_TITLE]
    assert running["status"] == "in_cycle"
    assert running["cycles_completed"] == 1
    assert running["next_step"].startswith("Teach research lesson 2")
    lessons = (await api.get(f"/{running['id']}/research-lessons", "n-t1"))["items"]
    assert [
        (lesson["cycle"], lesson["status"], lesson["predictions_missing"]) for lesson in lessons
    ] == [
        (1, "completed", 0),
        (2, "planned", 0),
    ]

    report = (await api.call("GET", f"/{done['id']}/report.html", "n-head")).text
    assert re.findall(r'<table class="grid" data-cycle="(\d)">', report) == ["1", "2", "3"]
    assert "Table stems turned a correct picture into a written explanation." in report
    assert "for 12 colleagues" in report
    health = await api.get(f"/{done['id']}/process-health", "n-head")
    assert (
        health["cycles_completed"],
        health["prediction_rate"],
        health["observation_coverage"],
    ) == (3, 1.0, 1.0)
    assert health["discussions_from_pupil_evidence"] == 3

    # Southbank's leader reads the networked study, not the Northfield-only one.
    assert [s["title"] for s in (await api.get("", "s-head"))["items"]] == [
        lessonstudy_demo.WRITING_TITLE
    ]
    trust = await api.get("/process-health", "admin")
    assert trust["totals"]["studies"] == 2
    assert {s["school_name"]: s["studies"] for s in trust["schools"]} == {
        "Northfield Primary": 2,
        "Southbank Academy": 1,
    }

    # Seeded like real requests: the same events.
    assert len(await outbox(demo, catalogue.StudyStarted.event_type)) == 2
    assert len(await outbox(demo, catalogue.LessonCompleted.event_type)) == 4
    assert len(await outbox(demo, catalogue.StudyCompleted.event_type)) == 1
