"""A whole three-cycle lesson study through the gateway: planning, predictions, teaching,
observations by two observers, interviews, discussions that start from the pupils, findings,
completion, the open-house lesson; then its events, hours, process health and report.

Each rule is its own test; the builders of :mod:`full_study` (create, start, run_cycles,
share) bring a study to the state the test needs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY
from cpd_local.stack import Stack

from .conftest import Api, outbox, prediction_text
from .full_study import (
    EXPECTED,
    MEMBERS,
    OBSERVERS,
    OVERRIDES,
    SCRIPT,
    Study,
    create,
    run_cycles,
    seen_text,
    share,
    start,
)


@pytest.fixture
async def shared_study(demo: Stack, api: Api) -> Study:
    return await share(api)


async def test_the_creator_joins_as_facilitator_beside_every_named_role(
    demo: Stack, api: Api
) -> None:
    study = await create(api)
    assert study.created["status"] == "planning"
    assert study.created["planned_cycles"] == 3
    assert {m["name"]: m["role"] for m in study.created["members"]} == {
        "Daniel Reid": "facilitator",  # the creator joins as facilitator
        "Jess Okafor": "teacher",
        "Sam Patel": "observer",
        "Hannah Lewis": "observer",
        "Nadia Rahman": "knowledgeable_other",  # from Southbank: a networked study
    }
    by_person = {str(p.id): key for key, p in PEOPLE_BY_KEY.items()}
    roles = {by_person[m["person_id"]]: m["role"] for m in study.created["members"]}
    assert roles == {"n-t6": "facilitator", **MEMBERS}, "each member keeps the role given"
    assert set(study.ids) == set(roles), "every member has a membership id"
    assert "case pupils" in study.created["next_step"]


async def test_a_study_starts_once_its_case_pupils_are_chosen(demo: Stack, api: Api) -> None:
    study = await start(api)
    assert [p["label"] for p in study.pupils] == ["A", "B", "C"]
    assert study.started["status"] == "in_cycle"
    assert study.started["next_step"].startswith("Plan research lesson 1")


async def test_three_cycles_each_plan_predict_teach_observe_and_discuss(
    demo: Stack, api: Api
) -> None:
    study = await run_cycles(api)  # run_cycle checks every step of each cycle
    assert [lesson["cycle"] for lesson in study.lessons] == [1, 2, 3]
    assert [lesson["status"] for lesson in study.lessons] == ["completed"] * 3
    assert study.after_cycles["cycles_completed"] == 3
    assert study.after_cycles["next_step"].startswith("Agree the findings")


async def test_findings_then_completion_then_open_house_share_the_study(
    shared_study: Study,
) -> None:
    study = shared_study
    assert study.findings["what_worked"][1]["case_pupil_labels"] == ["B", "C"]
    assert study.status_after_findings == "findings"
    assert study.completed["status"] == "completed"
    assert study.open_house["audience_count"] == 14
    assert study.shared["status"] == "shared"
    assert study.shared["next_step"] is None


async def test_study_started_event_names_members_schools_and_focus(
    demo: Stack, shared_study: Study
) -> None:
    await check_study_started(demo, shared_study.id)


async def test_lesson_completed_events_carry_consensus_outcomes_and_cycle_hours(
    demo: Stack, shared_study: Study
) -> None:
    await check_lessons_completed(demo, shared_study.id, shared_study.pupils)


async def test_study_completed_event_lists_findings_and_total_hours(
    demo: Stack, shared_study: Study
) -> None:
    await check_study_completed(demo, shared_study.id)


async def test_the_relay_publishes_every_study_event(demo: Stack, shared_study: Study) -> None:
    await demo.settle()
    async with demo.session("lessonstudy") as session:
        pending = await session.scalar(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
    assert pending == 0


async def test_hours_per_member_add_up_every_time_record(api: Api, shared_study: Study) -> None:
    await check_hours(api, shared_study.id)


async def test_process_health_is_recomputed_from_the_stored_rows(
    demo: Stack, api: Api, shared_study: Study
) -> None:
    await check_process_health(demo, api, shared_study.id)


async def test_process_health_is_seen_by_leaders_of_the_school_and_trust_admins(
    api: Api, shared_study: Study
) -> None:
    await check_process_health_visibility(api, shared_study.id)


async def test_html_report_shows_every_prediction_and_observation_escaped(
    api: Api, shared_study: Study
) -> None:
    await check_html_report(api, shared_study.id)


async def test_markdown_report_is_the_same_report_and_other_types_are_406(
    api: Api, shared_study: Study
) -> None:
    await check_markdown_report(api, shared_study.id)


async def check_study_started(demo: Stack, study_id: str) -> None:
    started = [
        e for e in await outbox(demo, catalogue.StudyStarted.event_type) if e["subject"] == study_id
    ]
    assert len(started) == 1
    data = catalogue.StudyStarted.model_validate(started[0]["data"])
    assert data.school_ids == [NORTHFIELD]
    assert data.planned_cycles == 3
    assert data.focus.startswith("By the end of the lesson pupils will be able to explain")
    assert "concrete representations" in data.focus
    assert {(m.person_id, m.role) for m in data.members} == {
        (PEOPLE_BY_KEY["n-t6"].id, "facilitator"),
        (PEOPLE_BY_KEY["n-t1"].id, "teacher"),
        (PEOPLE_BY_KEY["n-t2"].id, "observer"),
        (PEOPLE_BY_KEY["n-t3"].id, "observer"),
        (PEOPLE_BY_KEY["s-t1"].id, "knowledgeable_other"),
    }


async def check_lessons_completed(demo: Stack, study_id: str, pupils: list[dict[str, Any]]) -> None:
    completed = [
        catalogue.LessonCompleted.model_validate(e["data"])
        for e in await outbox(demo, catalogue.LessonCompleted.event_type)
        if e["data"]["study_id"] == study_id
    ]
    assert [c.cycle for c in completed] == [1, 2, 3]
    for c in completed:
        assert [p.label for p in c.case_pupils] == ["A", "B", "C"]
        assert c.case_pupils[0].starting_point == pupils[0]["starting_point"]
        assert c.case_pupils[2].success_criteria == pupils[2]["success_criteria"]
        for p in c.case_pupils:
            assert [(s.stage, s.outcome) for s in p.stages] == [
                (i + 1, o) for i, o in enumerate(EXPECTED[c.cycle][p.label])
            ]
        # This cycle's hours: planning 90 + teaching or observing 60 + discussion 45 for the
        # teacher and observers, 90 + 45 for the facilitator, 30 + 45 for the knowledgeable other.
        hours = {h.person_id: h.hours for h in c.hours}
        assert hours == {
            PEOPLE_BY_KEY["n-t1"].id: 3.25,
            PEOPLE_BY_KEY["n-t2"].id: 3.25,
            PEOPLE_BY_KEY["n-t3"].id: 3.25,
            PEOPLE_BY_KEY["n-t6"].id: 2.25,
            PEOPLE_BY_KEY["s-t1"].id: 1.25,
        }


async def check_study_completed(demo: Stack, study_id: str) -> None:
    done = [
        e
        for e in await outbox(demo, catalogue.StudyCompleted.event_type)
        if e["subject"] == study_id
    ]
    assert len(done) == 1
    summary = catalogue.StudyCompleted.model_validate(done[0]["data"])
    assert summary.cycles_completed == 3
    assert summary.findings == [
        "Talking through the wall before writing helped every case pupil explain.",
        "Model one explanation aloud before pupils write their own.",
        "Worked for case pupil(s) A: Sentence stems for A.",
        "Worked for case pupil(s) B, C: Partner talk for B and C.",
        "To share: The fraction-wall talk routine, at the KS2 staff meeting.",
    ]
    # Totals: 60 (first meeting) + 3 cycles + 120 (findings meeting), in minutes / 60.
    assert {h.person_id: h.hours for h in summary.hours} == {
        PEOPLE_BY_KEY["n-t1"].id: 12.75,
        PEOPLE_BY_KEY["n-t2"].id: 12.75,
        PEOPLE_BY_KEY["n-t3"].id: 12.75,
        PEOPLE_BY_KEY["n-t6"].id: 9.75,
        PEOPLE_BY_KEY["s-t1"].id: 6.75,
    }


async def check_hours(api: Api, study_id: str) -> None:
    hours = await api.get(f"/{study_id}/hours", "n-t1")
    by_name = {m["name"]: m for m in hours["members"]}
    assert by_name["Jess Okafor"]["hours"] == 12.75
    # Jess taught lessons 1 and 3 and observed lesson 2.
    assert by_name["Jess Okafor"]["hours_by_kind"] == {
        "meeting": round((60 + 3 * 45 + 120) / 60, 2),
        "planning": 4.5,
        "teaching": 2.0,
        "observing": 1.0,
    }
    assert by_name["Nadia Rahman"]["hours"] == 6.75
    assert hours["total_hours"] == round(12.75 * 3 + 9.75 + 6.75, 2)


async def check_process_health(demo: Stack, api: Api, study_id: str) -> None:
    health = await api.get(f"/{study_id}/process-health", "n-t2")
    # Figures recomputed from the stored rows.
    async with demo.session("lessonstudy") as session:
        stored_cells = await session.scalar(
            text(
                "SELECT count(*) FROM lesson_stages s JOIN research_lessons l ON l.id = s.lesson_id "
                "CROSS JOIN case_pupils cp WHERE l.study_id = :id AND cp.study_id = :id"
            ),
            {"id": study_id},
        )
        observed_cells = await session.scalar(
            text(
                "SELECT count(DISTINCT (o.stage_id, o.case_pupil_id)) FROM observations o "
                "JOIN research_lessons l ON l.id = o.lesson_id WHERE l.study_id = :id"
            ),
            {"id": study_id},
        )
        predictions = await session.scalar(
            text(
                "SELECT count(*) FROM predictions p JOIN research_lessons l ON l.id = p.lesson_id "
                "WHERE l.study_id = :id AND p.created_at <= l.marked_taught_at"
            ),
            {"id": study_id},
        )
    assert stored_cells == 27 and observed_cells == 26 and predictions == 27
    assert health["cycles_planned"] == 3
    assert health["cycles_completed"] == 3
    assert health["lessons_taught"] == 3
    assert health["prediction_cells"] == stored_cells
    assert health["predictions_before_teaching"] == predictions
    assert health["prediction_rate"] == 1.0
    assert health["cells_observed"] == observed_cells
    assert health["observation_coverage"] == round(26 / 27, 3)
    assert health["discussions_held"] == 3
    assert health["discussions_from_pupil_evidence"] == 3
    assert health["days_between_cycles"] == [21, 28]
    assert health["mean_days_between_cycles"] == 24.5
    assert [lesson["cells_observed"] for lesson in health["lessons"]] == [9, 8, 9]


async def check_process_health_visibility(api: Api, study_id: str) -> None:
    # School leaders of the study's school see it; trust admins see it across schools.
    assert (await api.get(f"/{study_id}/process-health", "n-head"))["cycles_completed"] == 3
    trust = await api.get("/process-health", "admin")
    assert [s["study_id"] for s in trust["studies"]] == [study_id]
    assert trust["totals"]["studies"] == 1
    assert trust["totals"]["cells_observed"] == 26
    assert trust["totals"]["mean_days_between_cycles"] == 24.5
    assert [(s["school_name"], s["studies"], s["cycles_completed"]) for s in trust["schools"]] == [
        ("Northfield Primary", 1, 3)
    ]
    # Southbank's leader sees none of Northfield's studies; a teacher gets the per-study view only.
    assert (await api.get("/process-health", "s-head"))["studies"] == []
    await api.call("GET", "/process-health", "n-t1", expect=403)


async def check_html_report(api: Api, study_id: str) -> None:
    resp = await api.call("GET", f"/{study_id}/report", "n-head", headers={"Accept": "text/html"})
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["etag"]
    page = resp.text
    assert "<h1>Reasoning about equivalent fractions in Year 4</h1>" in page
    assert "How to read this report" in page
    assert "explain why two fractions are equivalent" in page
    # A grid per research lesson, with every prediction and every observation in it.
    grids = re.findall(r'<table class="grid" data-cycle="(\d)">(.*?)</table>', page, re.S)
    assert [cycle for cycle, _ in grids] == ["1", "2", "3"]
    for cycle_text, grid in grids:
        cycle = int(cycle_text)
        assert grid.count("<tr>") == 4  # header + three stages
        for label in "ABC":
            assert f"{label}: predicted" in grid and f"{label}: observed" in grid
            for stage in (1, 2, 3):
                assert prediction_text(cycle, stage, label) in grid
                for observer in OBSERVERS[cycle]:
                    outcomes = OVERRIDES.get((cycle, stage, label))
                    if (
                        outcomes is not None
                        and len(outcomes) < 2
                        and observer == OBSERVERS[cycle][-1]
                    ):
                        continue
                    if outcomes == []:
                        continue
                    assert seen_text(cycle, stage, label, observer) in grid
    assert "not observed" in grids[1][1]
    assert "partly (met 1, partly 1)" in grids[0][1]
    # User text is escaped.
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    # Journeys across cycles, what changed between lessons, findings, open house.
    assert "Case pupil A" in page and "1 not yet · 2 not yet · 3 partly" in page
    assert "From lesson 1 to lesson 2" in page
    assert "What to change after 1: model the explanation first." in page
    assert "Change 2: more talk time before writing." in page
    assert "Model one explanation aloud before pupils write their own." in page
    assert "Held on" in page and "for 14 colleagues" in page
    assert "Work in progress" not in page


async def check_markdown_report(api: Api, study_id: str) -> None:
    md = await api.call("GET", f"/{study_id}/report", "n-t1", headers={"Accept": "text/markdown"})
    assert md.headers["content-type"].startswith("text/markdown")
    same = await api.call("GET", f"/{study_id}/report.md", "n-t1")
    assert same.text == md.text
    markdown = md.text
    assert markdown.startswith("# Reasoning about equivalent fractions in Year 4")
    for cycle in (1, 2, 3):
        assert f"### Research lesson {cycle}: Fraction wall, version {cycle}" in markdown
        assert prediction_text(cycle, 2, "B") in markdown
    assert markdown.count("| Stage | A: predicted | A: observed | B: predicted |") == 3
    assert SCRIPT not in markdown and r"\<script\>" in markdown
    html = await api.call("GET", f"/{study_id}/report", "n-head", headers={"Accept": "text/html"})
    html_again = await api.call("GET", f"/{study_id}/report.html", "admin")
    assert html_again.text == html.text
    await api.call(
        "GET", f"/{study_id}/report", "n-t1", headers={"Accept": "application/json"}, expect=406
    )
