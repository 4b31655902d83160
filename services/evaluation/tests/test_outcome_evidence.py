"""Outcome evidence from other services' events: closed audit rounds paired as staff
perception before and after, lesson studies' case pupils from the first research lesson to
the last; and the right to erasure reaching staff measures."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select, text

from cpd_common import events
from cpd_common.events import CATALOGUE, catalogue
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, RIVERSIDE, SOUTHBANK
from cpd_evaluation.models import InboxEntry
from cpd_evaluation.models.measures import CasePupilLesson, Measure, Observation
from cpd_lessonstudy import demo as lessonstudy_demo
from cpd_local.stack import Stack

from .conftest import Api, person_id
from .demos import lesson_studies_arrived
from .test_measures import PLANS, new_measure, new_plan, pupil


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """Outcome evidence arrives as events from the audit and lesson study services."""
    return ("gateway", "audit", "lessonstudy", "evaluation")


async def publish(stack: Stack, service: str, *payloads: events.Event) -> None:
    """Each event through ``service``'s outbox, the relay and NATS to the consumers."""
    for payload in payloads:
        async with stack.session(service) as session:
            events.add(session, payload)
            await session.commit()
    await stack.settle()


async def republish_last(stack: Stack, service: str, event_type: str) -> str:
    """The last outbox envelope of a type, sent again under a new broker message id (as a
    redelivery or a replayed stream would); returns its event id."""
    async with stack.session(service) as session:
        envelope = (
            await session.execute(
                text("SELECT envelope FROM outbox WHERE type = :t ORDER BY seq DESC LIMIT 1"),
                {"t": event_type},
            )
        ).scalar_one()
    js = await stack.js()
    await js.publish(
        CATALOGUE[event_type].nats_subject,
        json.dumps(envelope).encode(),
        headers={"Nats-Msg-Id": str(uuid.uuid4())},
    )
    await stack.settle()
    return str(envelope["id"])


def closed_round(
    audit_id: uuid.UUID,
    instrument_id: uuid.UUID,
    items: list[dict[str, Any]],
    *,
    trust: uuid.UUID = OAKRIDGE,
    school: uuid.UUID = NORTHFIELD,
    respondents: int = 20,
) -> catalogue.AuditClosed:
    return catalogue.AuditClosed(
        trust_id=trust,
        audit_id=audit_id,
        instrument_id=instrument_id,
        instrument_key="cpd-quality",
        instrument_version=1,
        title="CPD quality framework",
        scope=catalogue.AuditScope(kind="school", school_ids=[school]),
        respondent_count=respondents,
        min_group_size=5,
        items=[catalogue.ItemAggregate(**i) for i in items],
    )


async def test_an_audit_pair_flows_from_events_to_a_perception_change(
    demo: Stack, api: Api
) -> None:
    plan = await new_plan(api)
    instrument, other_instrument = uuid.uuid4(), uuid.uuid4()
    before, after, elsewhere, foreign, southbank = (uuid.uuid4() for _ in range(5))
    await publish(
        demo,
        "audit",
        closed_round(
            before,
            instrument,
            [
                {"item_key": "3c", "n": 20, "mean": 2.4, "sd": 0.8},
                {"item_key": "4d", "withheld": "fewer than 5 answered"},
            ],
        ),
        closed_round(elsewhere, other_instrument, []),
        closed_round(foreign, instrument, [], trust=RIVERSIDE, school=uuid.uuid4()),
        closed_round(southbank, instrument, [], school=SOUTHBANK),
        closed_round(
            after,
            instrument,
            [
                {"item_key": "3c", "n": 22, "mean": 3.1, "sd": 0.7},
                {"item_key": "4d", "n": 9, "mean": 3.5, "sd": 0.5},
            ],
        ),
    )
    url = f"{PLANS}/{plan}/audit-rounds"
    await api.call("GET", url, "n-head", expect=404)
    await api.call("GET", f"{PLANS}/{plan}/perception", "n-head", expect=404)

    async def refused(body: dict[str, Any], who: str = "n-head") -> list[str]:
        resp = await api.put(url, who, body, expect=422)
        return [e["msg"] for e in resp["errors"]]

    pair = {"baseline_audit_id": str(before), "outcome_audit_id": str(after)}
    assert await refused({"baseline_audit_id": str(after), "outcome_audit_id": str(before)}) == [
        "closed before the baseline round"
    ]
    assert "another instrument" in (await refused({**pair, "outcome_audit_id": str(elsewhere)}))[0]
    assert await refused({**pair, "outcome_audit_id": str(before)}) == [
        "the same round as the baseline"
    ]
    # Another trust's round, an unknown one, one of a school the leader does not lead.
    for other in (foreign, uuid.uuid4(), southbank):
        assert await refused({**pair, "outcome_audit_id": str(other)}) == [
            "not a closed audit round you can use"
        ]
    await api.put(url, "n-gov", pair, expect=403)
    await api.put(url, "r-admin", pair, expect=404)

    named = await api.put(url, "n-head", pair)
    assert named["baseline"]["audit_id"] == str(before)
    assert named["outcome"]["respondent_count"] == 20
    assert (await api.get(url, "n-gov")) == named

    perception = await api.get(f"{PLANS}/{plan}/perception", "n-gov")
    items = {i["item_key"]: i for i in perception["items"]}
    assert items["3c"]["baseline"] == {"n": 20, "mean": 2.4, "sd": 0.8}
    assert items["3c"]["outcome"]["n"] == 22
    assert round(items["3c"]["mean_change"], 6) == 0.7
    # Withheld at baseline stays withheld: no change is made up from one side.
    assert items["4d"]["withheld"] == "fewer than 5 answered"
    assert items["4d"]["mean_change"] is None

    # A redelivered close changes nothing and is handled once.
    event_id = await republish_last(demo, "audit", catalogue.AuditClosed.event_type)
    async with demo.session("evaluation") as session:
        handled = await session.scalar(
            select(func.count())
            .select_from(InboxEntry)
            .where(InboxEntry.event_id == event_id, InboxEntry.consumer == "evaluation-audit")
        )
    assert handled == 1
    assert (await api.get(f"{PLANS}/{plan}/perception", "n-head")) == perception

    await api.call("DELETE", url, "n-head", expect=428)
    await api.delete(url, "n-head")
    await api.call("GET", f"{PLANS}/{plan}/perception", "n-head", expect=404)


def lesson(
    study: uuid.UUID, cycle: int, taught_on: str, pupils: dict[str, list[str | None]]
) -> catalogue.LessonCompleted:
    return catalogue.LessonCompleted(
        trust_id=OAKRIDGE,
        study_id=study,
        lesson_id=uuid.uuid4(),
        school_ids=[NORTHFIELD],
        cycle=cycle,
        taught_on=taught_on,  # type: ignore[arg-type]
        case_pupils=[
            catalogue.CasePupilProgress(
                label=label,
                starting_point=f"Profile of pupil {label}",
                stages=[
                    catalogue.StagePoint(stage=n, outcome=o)  # type: ignore[arg-type]
                    for n, o in enumerate(outcomes, start=1)
                ],
            )
            for label, outcomes in pupils.items()
        ],
        hours=[],
    )


async def test_a_lesson_study_flows_to_case_pupil_outcomes(demo: Stack, api: Api) -> None:
    study = uuid.uuid4()
    started = catalogue.StudyStarted(
        trust_id=OAKRIDGE,
        study_id=study,
        school_ids=[NORTHFIELD],
        title="Fractions on a number line",
        focus="Placing fractions on a number line",
        members=[catalogue.StudyMember(person_id=PEOPLE_BY_KEY["n-t1"].id, role="teacher")],
        planned_cycles=3,
    )
    first = lesson(
        study,
        1,
        "2025-10-06",
        {"A": ["not_yet", "partly", "not_yet"], "B": ["met", "partly", "not_yet"]},
    )
    third = lesson(
        study, 3, "2025-12-01", {"A": ["met", "met", "partly"], "B": ["met", "met", "met"]}
    )
    second = lesson(
        study, 2, "2025-11-03", {"A": ["partly", "met", None], "B": ["met", "met", "partly"]}
    )
    # Delivered out of order: the order comes from the cycles, not from arrival.
    await publish(demo, "lessonstudy", started, first, third, second)

    plan = await new_plan(api)
    url = f"{PLANS}/{plan}/lesson-studies"
    bad = await api.put(url, "n-head", {"study_ids": [str(uuid.uuid4())]}, expect=422)
    assert bad["errors"][0]["loc"] == "body.study_ids.0"
    await api.put(url, "n-gov", {"study_ids": [str(study)]}, expect=403)
    linked = await api.put(url, "n-head", {"study_ids": [str(study)]})
    assert [s["title"] for s in linked["items"]] == ["Fractions on a number line"]

    got = await api.get(f"{PLANS}/{plan}/case-pupils", "n-gov")
    (only,) = got["studies"]
    assert only["lessons"] == 3
    assert (only["first_lesson"]["cycle"], only["last_lesson"]["cycle"]) == (1, 3)
    pupils = {p["label"]: p for p in only["case_pupils"]}
    assert pupils["A"]["first"] == {"stages": 3, "met": 0, "partly": 1, "not_yet": 2}
    assert pupils["A"]["last"] == {"stages": 3, "met": 2, "partly": 1, "not_yet": 0}
    assert (pupils["A"]["met_change"], pupils["B"]["met_change"]) == (2, 2)
    assert pupils["A"]["starting_point"] == "Profile of pupil A"
    await api.call("GET", f"{PLANS}/{plan}/case-pupils", "r-admin", expect=404)
    await api.call("GET", f"{PLANS}/{plan}/case-pupils", "n-t1", expect=403)

    # A redelivered lesson is handled once by the case-pupil consumer and changes nothing.
    event_id = await republish_last(demo, "lessonstudy", catalogue.LessonCompleted.event_type)
    async with demo.session("evaluation") as session:
        handled = await session.scalar(
            select(func.count())
            .select_from(InboxEntry)
            .where(InboxEntry.event_id == event_id, InboxEntry.consumer == "evaluation-case-pupils")
        )
    assert handled == 1
    assert await api.get(f"{PLANS}/{plan}/case-pupils", "n-head") == got

    # A corrected last lesson (pupil B no longer in it) replaces its rows.
    corrected = third.model_copy(
        update={"case_pupils": [p for p in third.case_pupils if p.label == "A"]}
    )
    await publish(demo, "lessonstudy", corrected)
    pupils = {
        p["label"]: p
        for p in (await api.get(f"{PLANS}/{plan}/case-pupils", "n-head"))["studies"][0][
            "case_pupils"
        ]
    }
    assert pupils["B"]["last"] is None and pupils["B"]["met_change"] is None
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(func.count()).select_from(CasePupilLesson)) == 5

    # Unlinked, the plan shows no study.
    await api.put(url, "n-head", {"study_ids": []})
    assert (await api.get(f"{PLANS}/{plan}/case-pupils", "n-head"))["studies"] == []


async def test_the_demo_lesson_study_reaches_a_plan(demo: Stack, api: Api) -> None:
    """The lesson study service's own demo, through its real outbox and events."""
    await lesson_studies_arrived(demo)
    studies = {s["title"]: s for s in (await api.get("/v1/lesson-studies", "admin"))["items"]}
    fractions = studies[lessonstudy_demo.FRACTIONS_TITLE]
    plan = await new_plan(api, "admin")
    await api.put(f"{PLANS}/{plan}/lesson-studies", "admin", {"study_ids": [fractions["id"]]})
    (study,) = (await api.get(f"{PLANS}/{plan}/case-pupils", "admin"))["studies"]
    assert study["lessons"] >= 2 and study["case_pupils"]
    assert study["first_lesson"]["cycle"] < study["last_lesson"]["cycle"]
    for p in study["case_pupils"]:
        assert p["first"] is not None and p["last"] is not None
        assert p["met_change"] == p["last"]["met"] - p["first"]["met"]


async def test_erasure_removes_a_persons_staff_observations(demo: Stack, api: Api) -> None:
    plan = await new_plan(api)
    staff = await new_measure(
        api,
        plan,
        name="Confidence with Sam Patel's method",
        kind="staff_confidence",
        subjects="staff",
        scale={"min": 1, "max": 5},
    )
    pupils = await new_measure(api, plan, name="Reasoning test")
    await api.post(
        f"/v1/measures/{staff}/observations",
        "n-head",
        {
            "observations": [
                {"person_id": person_id(who), "phase": phase, "value": v}
                for who in ("n-t1", "n-t2")
                for phase, v in (("baseline", 2), ("short_term", 4))
            ]
        },
    )
    await api.post(
        f"/v1/measures/{pupils}/observations",
        "n-head",
        {"observations": [pupil("A1", "baseline", 20)]},
    )
    erased = PEOPLE_BY_KEY["n-t2"]  # Sam Patel
    resp = await demo.gateway.post(
        f"/v1/people/{erased.id}/erase", headers=await api.headers("admin")
    )
    assert resp.status_code == 202, resp.text
    await demo.settle()

    async with demo.session("evaluation") as session:
        keys = (await session.execute(select(Observation.subject_key, Observation.phase))).all()
        names = set((await session.scalars(select(Measure.name))).all())
    assert str(erased.id) not in {k for k, _ in keys}
    assert len(keys) == 3  # n-t1's two values and the pupil's stay
    assert names == {"Confidence with a former participant's method", "Reasoning test"}
    listed = await api.get(f"/v1/measures/{staff}/observations", "n-head")
    assert {o["subject_key"] for o in listed["items"]} == {person_id("n-t1")}
