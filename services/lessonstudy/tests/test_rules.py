"""The rules that make the process hard to skip: predictions before teaching, evidence only
for a taught lesson, a discussion that starts from every case pupil, status changes in the
method's order, and process health when evidence is missing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from cpd_local.stack import Stack

from .conftest import Api, days_ago, member_ids
from .lesson_helpers import GROUP, study_with_lesson, teach


async def _predict_two_stages(
    api: Api, study: dict[str, Any], lesson: dict[str, Any], pupils: list[dict[str, Any]]
) -> str:
    """Predictions for stages 1 and 2 only: stage 3 is empty for every case pupil."""
    base = f"/{study['id']}/research-lessons/{lesson['id']}"
    await api.put(
        base + "/predictions",
        "n-t2",
        {
            "predictions": [
                {"stage_id": s["id"], "case_pupil_id": p["id"], "response": "Will hesitate."}
                for s in lesson["stages"][:2]
                for p in pupils
            ]
        },
    )
    return base


async def test_teaching_without_every_prediction_is_409(demo: Stack, api: Api) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await _predict_two_stages(api, study, lesson, pupils)
    grid = await api.get(base + "/predictions", "n-t2")
    assert grid["complete"] is False
    assert [(c["stage_position"], c["case_pupil_label"]) for c in grid["missing"]] == [
        (3, "A"),
        (3, "B"),
        (3, "C"),
    ]
    assert (await api.get(base, "n-t1"))["predictions_missing"] == 3

    resp = await api.call(
        "POST", base + "/taught", "n-t1", json={"taught_on": days_ago(0)}, expect=None
    )
    assert resp.status_code == 409, (
        "a research lesson is taught only once every stage x case pupil has a prediction "
        f"(got {resp.status_code})"
    )
    problem = resp.json()
    assert problem["type"].endswith("/predictions-missing")
    assert problem["detail"].startswith(
        "Write a prediction for every stage and case pupil before teaching"
    )
    assert "stage 3 x A, stage 3 x B, stage 3 x C" in problem["detail"]
    assert [e["loc"] for e in problem["errors"]] == [
        "predictions.stage_3.A",
        "predictions.stage_3.B",
        "predictions.stage_3.C",
    ]
    async with demo.session("lessonstudy") as session:
        status = await session.scalar(
            text("SELECT status FROM research_lessons WHERE id = :id"), {"id": lesson["id"]}
        )
    assert status == "planned", "a refused lesson stays planned"
    # With the last predictions written, the same request succeeds.
    await api.predict_all(study["id"], lesson, pupils, "n-t3")
    taught = await api.post(base + "/taught", "n-t1", {"taught_on": days_ago(0)}, expect=200)
    assert taught["status"] == "taught"


async def test_observing_needs_a_taught_lesson(demo: Stack, api: Api) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await _predict_two_stages(api, study, lesson, pupils)
    obs = {
        "stage_id": lesson["stages"][0]["id"],
        "case_pupil_id": pupils[0]["id"],
        "response": "x",
        "outcome": "met",
    }
    early = await api.call("POST", base + "/observations", "n-t2", json=obs, expect=409)
    assert "not taught yet" in early.json()["detail"]


async def test_a_lesson_cannot_be_marked_taught_in_the_future(demo: Stack, api: Api) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    await api.predict_all(study["id"], lesson, pupils, "n-t3")
    base = f"/{study['id']}/research-lessons/{lesson['id']}"
    future = await api.call(
        "POST", base + "/taught", "n-t1", json={"taught_on": days_ago(-2)}, expect=422
    )
    assert future.json()["errors"] == [{"loc": "body.taught_on", "msg": "in the future"}]


async def test_predictions_are_frozen_once_the_lesson_is_taught(demo: Stack, api: Api) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await teach(api, study, lesson, pupils)
    # Predictions cannot be written (or rewritten) after teaching.
    late = await api.call(
        "PUT",
        base + "/predictions",
        "n-t2",
        json={
            "predictions": [
                {
                    "stage_id": lesson["stages"][0]["id"],
                    "case_pupil_id": pupils[0]["id"],
                    "response": "hindsight",
                }
            ]
        },
        expect=409,
    )
    assert "only before teaching" in late.json()["detail"]
    # Nor is a lesson taught twice.
    await api.call("POST", base + "/taught", "n-t1", json={"taught_on": days_ago(0)}, expect=409)


async def test_lesson_one_is_planned_before_the_study_starts_but_not_taught(
    demo: Stack, api: Api
) -> None:
    unstarted, pupils, lesson, _ = await study_with_lesson(api, start=False)
    await api.predict_all(unstarted["id"], lesson, pupils, "n-t6")
    resp = await api.call(
        "POST",
        f"/{unstarted['id']}/research-lessons/{lesson['id']}/taught",
        "n-t1",
        json={"taught_on": days_ago(0)},
        expect=409,
    )
    assert "start the study first" in resp.json()["detail"]


async def test_the_discussion_starts_from_every_case_pupil(demo: Stack, api: Api) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await teach(api, study, lesson, pupils)
    a, b, c = pupils

    resp = await api.call(
        "POST",
        base + "/discussion",
        "n-t2",
        json={
            "reflections": [{"case_pupil_id": a["id"], "learning": "A needed the picture."}],
            "what_to_change": "More modelling.",
        },
        expect=422,
    )
    problem = resp.json()
    assert problem["type"].endswith("/pupils-first")
    assert problem["title"] == "Start from the case pupils"
    assert problem["detail"] == (
        "Start from the pupils: record what the group learnt about each case pupil's learning "
        "before deciding what to change for the next lesson. Still without a reflection: case "
        "pupils B, C."
    )
    assert problem["errors"] == [
        {"loc": "body.what_to_change", "msg": "reflect on case pupil B first"},
        {"loc": "body.what_to_change", "msg": "reflect on case pupil C first"},
    ]
    # Nothing of the refused request was kept.
    await api.call("GET", base + "/discussion", "n-t2", expect=404)

    started = await api.post(
        base + "/discussion",
        "n-t2",
        {"reflections": [{"case_pupil_id": a["id"], "learning": "A needed the picture."}]},
    )
    assert started["pupils_without_reflection"] == ["B", "C"]
    plan_first = await api.patch(
        base + "/discussion", "n-t2", {"next_lesson_plan": "Lesson 2: ..."}, expect=422
    )
    assert plan_first["detail"].startswith("Agree what to change for the next lesson")
    one_more = await api.patch(
        base + "/discussion",
        "n-t3",
        {
            "reflections": [{"case_pupil_id": b["id"], "learning": "B explained well."}],
            "what_to_change": "x",
        },
        expect=422,
    )
    assert one_more["detail"].endswith("Still without a reflection: case pupil C.")

    # Completing the cycle needs the whole discussion.
    unfinished = await api.call("POST", base + "/complete", "n-t2", expect=409)
    assert unfinished.json()["type"].endswith("/discussion-unfinished")
    assert "no reflection on case pupil B" in unfinished.json()["detail"]
    done = await api.patch(
        base + "/discussion",
        "n-t3",
        {
            "reflections": [
                {"case_pupil_id": b["id"], "learning": "B explained well."},
                {"case_pupil_id": c["id"], "learning": "C rushed."},
            ],
            "what_to_change": "Model the explanation first.",
        },
    )
    assert done["pupils_without_reflection"] == []
    assert done["what_to_change_at"] is not None
    no_plan = await api.call("POST", base + "/complete", "n-t2", expect=409)
    assert no_plan.json()["errors"] == [
        {"loc": "discussion.next_lesson_plan", "msg": "plan the next research lesson"}
    ]
    await api.patch(base + "/discussion", "n-t2", {"next_lesson_plan": "Worked example first."})
    assert (await api.post(base + "/complete", "n-t2", expect=200))["status"] == "completed"
    # The completed lesson's evidence is part of the record.
    await api.call(
        "PATCH",
        base + "/discussion",
        "n-t2",
        json={"what_to_change": "y"},
        headers={"If-Match": "*"},
        expect=409,
    )


async def test_status_changes_follow_the_process(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", GROUP, planned_cycles=1)
    sid = study["id"]
    for path, body in [
        ("/complete", None),
        ("/open-house", {"held_on": days_ago(0), "audience_count": 3}),
    ]:
        resp = await api.call("POST", f"/{sid}{path}", "n-t6", json=body, expect=409)
        assert resp.json()["type"].endswith("/illegal-transition")
    await api.call("PUT", f"/{sid}/findings", "n-t6", json={"practices": ["p"]}, expect=409)
    no_pupils = await api.call("POST", f"/{sid}/start", "n-t6", expect=409)
    assert no_pupils.json()["errors"] == [
        {"loc": "case_pupils", "msg": "choose the case pupils (usually A, B and C)"}
    ]
    # The status only changes through the process endpoints.
    await api.call(
        "PATCH",
        f"/{sid}",
        "n-t6",
        json={"status": "completed"},
        headers={"If-Match": "*"},
        expect=422,
    )
    pupils = await api.add_case_pupils(sid, "n-t6")
    await api.post(f"/{sid}/start", "n-t6", expect=200)
    await api.call("POST", f"/{sid}/start", "n-t6", expect=409)
    await api.call("PUT", f"/{sid}/findings", "n-t6", json={"practices": ["p"]}, expect=409)
    ids = member_ids(study)
    lesson = await api.plan_lesson(sid, "n-t6", ids["n-t1"])
    await api.call(
        "POST",
        f"/{sid}/research-lessons",
        "n-t6",
        json={"teacher_member_id": ids["n-t1"], "stages": [{"title": "s"}]},
        expect=409,
    )
    base = await teach(api, study, lesson, pupils)
    await api.call("PUT", f"/{sid}/findings", "n-t6", json={"practices": ["p"]}, expect=409)
    await api.post(
        base + "/discussion",
        "n-t2",
        {
            "reflections": [{"case_pupil_id": p["id"], "learning": "learnt"} for p in pupils],
            "what_to_change": "Keep it.",
        },
    )
    # The last planned cycle needs no next-lesson plan.
    await api.post(base + "/complete", "n-t2", expect=200)
    beyond = await api.call(
        "POST",
        f"/{sid}/research-lessons",
        "n-t6",
        json={"teacher_member_id": ids["n-t1"], "stages": [{"title": "s"}]},
        expect=409,
    )
    assert "planned cycles are done" in beyond.json()["detail"]
    await api.call("POST", f"/{sid}/complete", "n-t6", expect=409)
    await api.put(f"/{sid}/findings", "n-t6", {"practices": ["Model first."]}, expect=201)
    # Revising findings needs the current ETag.
    await api.call(
        "PUT", f"/{sid}/findings", "n-t6", json={"practices": ["Model first!"]}, expect=428
    )
    revised = await api.call(
        "PUT",
        f"/{sid}/findings",
        "n-t6",
        json={"practices": ["Model first, then talk."]},
        headers={"If-Match": (await api.call("GET", f"/{sid}/findings", "n-t6")).headers["etag"]},
    )
    assert revised.json()["practices"] == ["Model first, then talk."]
    await api.call(
        "POST",
        f"/{sid}/open-house",
        "n-t6",
        json={"held_on": days_ago(0), "audience_count": 3},
        expect=409,
    )
    await api.post(f"/{sid}/complete", "n-t6", expect=200)
    await api.call("POST", f"/{sid}/complete", "n-t6", expect=409)
    # A completed study is a record.
    closed = await api.call(
        "PATCH", f"/{sid}", "n-t6", json={"title": "x"}, headers={"If-Match": "*"}, expect=409
    )
    assert closed.json()["type"].endswith("/lesson-study-closed")
    await api.call(
        "POST", f"/{sid}/case-pupils", "n-t6", json={"label": "Z", "profile": "p"}, expect=409
    )
    await api.post(f"/{sid}/open-house", "n-t6", {"held_on": days_ago(0), "audience_count": 3})
    assert (await api.get(f"/{sid}", "n-t6"))["status"] == "shared"
    await api.call(
        "POST",
        f"/{sid}/open-house",
        "n-t6",
        json={"held_on": days_ago(0), "audience_count": 3},
        expect=409,
    )


async def test_process_health_of_a_cycle_without_full_evidence(demo: Stack, api: Api) -> None:
    """A discussion where case pupil C was never observed does not count as started from pupil
    evidence; coverage counts the cells observed."""
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await teach(api, study, lesson, pupils)
    for stage in lesson["stages"]:
        for pupil in pupils[:2]:
            await api.post(
                base + "/observations",
                "n-t2",
                {
                    "stage_id": stage["id"],
                    "case_pupil_id": pupil["id"],
                    "response": "seen",
                    "outcome": "partly",
                },
            )
    await api.post(
        base + "/discussion",
        "n-t2",
        {
            "reflections": [{"case_pupil_id": p["id"], "learning": "learnt"} for p in pupils],
            "what_to_change": "c",
            "next_lesson_plan": "n",
        },
    )
    await api.post(base + "/complete", "n-t2", expect=200)
    health = await api.get(f"/{study['id']}/process-health", "n-t3")
    assert (health["cycles_completed"], health["cycles_planned"]) == (1, 3)
    assert (
        health["prediction_cells"],
        health["predictions_before_teaching"],
        health["cells_observed"],
    ) == (9, 9, 6)
    assert health["observation_coverage"] == round(6 / 9, 3)
    assert (health["discussions_held"], health["discussions_from_pupil_evidence"]) == (1, 0)
    assert health["days_between_cycles"] == [] and health["mean_days_between_cycles"] is None
    assert health["lessons"][0]["discussion_from_pupil_evidence"] is False
