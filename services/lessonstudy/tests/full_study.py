"""Builders of the whole-study tests: a three-cycle lesson study run through the gateway as a
front end would (create, start, run_cycles, share), with the outcomes each observer records
and the consensus expected of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cpd_demo.trust import PEOPLE_BY_KEY

from .conftest import Api, days_ago, member_ids

# Consensus outcome per cycle, case pupil and stage (None: nobody observed that cell).
EXPECTED: dict[int, dict[str, list[str | None]]] = {
    1: {
        "A": ["not_yet", "not_yet", "partly"],
        "B": ["partly", "partly", "met"],
        "C": ["met", "met", "partly"],
    },
    2: {"A": ["partly", "partly", "met"], "B": ["met", "partly", "met"], "C": ["met", "met", None]},
    3: {"A": ["partly", "met", "met"], "B": ["met", "met", "met"], "C": ["met", "met", "met"]},
}


# (cycle, stage, label) -> outcome per observer, where the two observers differ or one is absent.
OVERRIDES: dict[tuple[int, int, str], list[str]] = {
    (1, 2, "B"): ["met", "partly"],  # a tie: the more cautious outcome wins
    (1, 3, "C"): ["partly"],  # only the first observer saw it
    (2, 3, "C"): [],  # nobody saw it
}


TEACHERS = {1: "n-t1", 2: "n-t2", 3: "n-t1"}


OBSERVERS = {1: ["n-t2", "n-t3"], 2: ["n-t1", "n-t3"], 3: ["n-t2", "n-t3"]}


TAUGHT_DAYS_AGO = {1: 60, 2: 39, 3: 11}


MEMBERS = {"n-t1": "teacher", "n-t2": "observer", "n-t3": "observer", "s-t1": "knowledgeable_other"}


EVERYONE = ["n-t6", "n-t1", "n-t2", "n-t3", "s-t1"]


SCRIPT = "<script>alert('x')</script>"


def seen_text(cycle: int, stage: int, label: str, observer: str) -> str:
    return f"Seen c{cycle} s{stage} {label} by {observer}"


async def record_time(
    api: Api,
    study_id: str,
    ids: dict[str, str],
    kind: str,
    held: str,
    minutes: dict[str, int],
    lesson_id: str | None = None,
) -> None:
    await api.post(
        f"/{study_id}/time-records",
        "n-t6",
        {
            "kind": kind,
            "held_on": held,
            "research_lesson_id": lesson_id,
            "attendance": [{"member_id": ids[k], "minutes": m} for k, m in minutes.items()],
        },
    )


async def run_cycle(
    api: Api, study_id: str, ids: dict[str, str], pupils: list[dict[str, Any]], cycle: int
) -> dict[str, Any]:
    teacher = TEACHERS[cycle]
    extra: dict[str, Any] = {
        "title": f"Fraction wall, version {cycle}",
        "plan_summary": "Concrete first, then notation.",
    }
    if cycle > 1:
        extra["changes_from_previous"] = f"Change {cycle}: more talk time before writing."
    lesson = await api.plan_lesson(study_id, "n-t6", ids[teacher], **extra)
    assert lesson["cycle"] == cycle
    assert lesson["status"] == "planned"
    assert lesson["predictions_missing"] == 9
    base = f"/{study_id}/research-lessons/{lesson['id']}"
    await record_time(
        api,
        study_id,
        ids,
        "planning",
        days_ago(TAUGHT_DAYS_AGO[cycle] + 3),
        {"n-t1": 90, "n-t2": 90, "n-t3": 90, "n-t6": 90, "s-t1": 30},
        lesson["id"],
    )
    grid = await api.predict_all(study_id, lesson, pupils, "n-t6")
    assert grid["complete"] is True and grid["missing"] == []
    taught = await api.post(
        base + "/taught", teacher, {"taught_on": days_ago(TAUGHT_DAYS_AGO[cycle])}, expect=200
    )
    assert taught["status"] == "taught"
    await record_time(
        api,
        study_id,
        ids,
        "teaching",
        days_ago(TAUGHT_DAYS_AGO[cycle]),
        {teacher: 60},
        lesson["id"],
    )
    await record_time(
        api,
        study_id,
        ids,
        "observing",
        days_ago(TAUGHT_DAYS_AGO[cycle]),
        dict.fromkeys(OBSERVERS[cycle], 60),
        lesson["id"],
    )

    # Two observers record every stage x case pupil (with the scripted exceptions).
    for stage in lesson["stages"]:
        for pupil in pupils:
            key = (cycle, stage["position"], pupil["label"])
            outcomes = OVERRIDES.get(
                key, [EXPECTED[cycle][pupil["label"]][stage["position"] - 1]] * 2
            )
            for observer, outcome in zip(OBSERVERS[cycle], outcomes, strict=False):
                body: dict[str, Any] = {
                    "stage_id": stage["id"],
                    "case_pupil_id": pupil["id"],
                    "response": seen_text(cycle, stage["position"], pupil["label"], observer),
                    "outcome": outcome,
                }
                if key == (1, 1, "A"):
                    body["notes"] = f"Wrote {SCRIPT} on the board"
                obs = await api.post(base + "/observations", observer, body)
                assert obs["observer_name"] == PEOPLE_BY_KEY[observer].name
                assert obs["case_pupil_label"] == pupil["label"]

    # Pupil voice: each case pupil and one other pupil.
    for pupil in pupils:
        await api.post(
            base + "/interviews",
            "n-t3",
            {
                "case_pupil_id": pupil["id"],
                "notes": f"Interview c{cycle} {pupil['label']}: the wall helped.",
            },
        )
    other = await api.post(
        base + "/interviews", "n-t2", {"notes": f"Interview c{cycle}: another pupil liked pairs."}
    )
    assert other["case_pupil_label"] is None

    # The discussion starts from the pupils, then what to change, then the next plan.
    reflections = [
        {
            "case_pupil_id": p["id"],
            "learning": f"Reflection c{cycle} {p['label']}: needs time to talk.",
        }
        for p in pupils
    ]
    started = await api.post(base + "/discussion", "n-t6", {"reflections": reflections[:2]})
    assert started["pupils_without_reflection"] == ["C"]
    finish: dict[str, Any] = {
        "reflections": reflections[2:],
        "what_to_change": f"What to change after {cycle}: model the explanation first.",
    }
    if cycle < 3:
        finish["next_lesson_plan"] = f"Plan for lesson {cycle + 1}: start with a worked example."
    discussion = await api.patch(base + "/discussion", "n-t6", finish)
    assert discussion["pupils_without_reflection"] == []
    assert [r["case_pupil_label"] for r in discussion["reflections"]] == ["A", "B", "C"]
    await record_time(
        api,
        study_id,
        ids,
        "meeting",
        days_ago(TAUGHT_DAYS_AGO[cycle]),
        dict.fromkeys(EVERYONE, 45),
        lesson["id"],
    )

    completed = await api.post(base + "/complete", "n-t6", expect=200)
    assert completed["status"] == "completed"
    return completed


@dataclass
class Study:
    """A three-cycle study at some point of its life, with the responses met on the way."""

    id: str
    created: dict[str, Any]
    ids: dict[str, str]
    pupils: list[dict[str, Any]] = field(default_factory=list)
    started: dict[str, Any] = field(default_factory=dict)
    lessons: list[dict[str, Any]] = field(default_factory=list)
    after_cycles: dict[str, Any] = field(default_factory=dict)
    findings: dict[str, Any] = field(default_factory=dict)
    status_after_findings: str = ""
    completed: dict[str, Any] = field(default_factory=dict)
    open_house: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


async def create(api: Api) -> Study:
    created = await api.create_study("n-t6", MEMBERS)
    return Study(id=created["id"], created=created, ids=member_ids(created))


async def start(api: Api) -> Study:
    """Created, case pupils A-C added, a first meeting recorded, started."""
    study = await create(api)
    study.pupils = await api.add_case_pupils(study.id, "n-t6")
    await record_time(
        api, study.id, study.ids, "meeting", days_ago(70), dict.fromkeys(EVERYONE, 60)
    )
    study.started = await api.post(f"/{study.id}/start", "n-t6", expect=200)
    return study


async def run_cycles(api: Api) -> Study:
    study = await start(api)
    study.lessons = [
        await run_cycle(api, study.id, study.ids, study.pupils, cycle) for cycle in (1, 2, 3)
    ]
    study.after_cycles = await api.get(f"/{study.id}", "n-t6")
    return study


async def share(api: Api) -> Study:
    """Three cycles, findings agreed, study completed, open-house lesson held."""
    study = await run_cycles(api)
    pupils = study.pupils
    await record_time(
        api, study.id, study.ids, "meeting", days_ago(5), dict.fromkeys(EVERYONE, 120)
    )
    study.findings = await api.put(
        f"/{study.id}/findings",
        "n-t6",
        {
            "summary": "Talking through the wall before writing helped every case pupil explain.",
            "practices": ["Model one explanation aloud before pupils write their own."],
            "what_worked": [
                {"case_pupil_ids": [pupils[0]["id"]], "text": "Sentence stems for A."},
                {
                    "case_pupil_ids": [pupils[1]["id"], pupils[2]["id"]],
                    "text": "Partner talk for B and C.",
                },
            ],
            "to_share": ["The fraction-wall talk routine, at the KS2 staff meeting."],
        },
        expect=201,
    )
    study.status_after_findings = (await api.get(f"/{study.id}", "n-t6"))["status"]
    study.completed = await api.post(f"/{study.id}/complete", "n-t6", expect=200)
    study.open_house = await api.post(
        f"/{study.id}/open-house", "n-t1", {"held_on": days_ago(2), "audience_count": 14}
    )
    study.shared = await api.get(f"/{study.id}", "n-t6")
    return study
