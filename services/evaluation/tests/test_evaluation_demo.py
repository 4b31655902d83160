"""The demo's evaluated programmes (``make up``): one with a clear effect, one honestly too
small to tell, each with evidence, value for money and a report governors can read."""

from __future__ import annotations

from typing import Any

import pytest

from cpd_common.events import catalogue
from cpd_evaluation import demo as evaluation_demo
from cpd_evaluation.demo_evaluations import demo_plans
from cpd_local.stack import Stack

from .conftest import Api, outbox
from .demos import evaluation_demo_seeded, lesson_studies_arrived


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """The demo programmes sit beside the demo lesson studies, which arrive by their events."""
    return ("gateway", "lessonstudy", "evaluation")


PLANS = "/v1/evaluations"


def comparisons(impact: dict[str, Any], name: str) -> list[dict[str, Any]]:
    [measure] = [m for m in impact["measures"] if m["name"] == name]
    return list(measure["comparisons"])


async def test_demo_holds_two_evaluated_programmes(demo: Stack, api: Api) -> None:
    await lesson_studies_arrived(demo)
    await evaluation_demo_seeded(demo)
    async with demo.session("evaluation") as session:
        plans = await demo_plans(session, evaluation_demo.content())
    maths = str(plans["Does reasoning with representations lift Year 5 maths reasoning?"])
    calm = str(plans["Did the calm-classrooms INSET cut behaviour points?"])

    # A clear effect: the whole interval above zero, priced per pupil per 0.1 SD.
    [reasoning] = comparisons(
        await api.get(f"{PLANS}/{maths}/impact", "n-head"), "Year 5 reasoning test"
    )
    effect = reasoning["effect_size"]
    assert effect["ci_low"] > 0 and effect["value"] >= 0.2, effect
    assert reasoning["attrition"][0]["missing_after"] == 2
    value = await api.get(f"{PLANS}/{maths}/value", "n-head")
    assert (
        value["costs"]["includes_staff_time"] is True
        and value["costs"]["hourly_staff_cost"] == 32.5
    )
    [priced] = value["effects"]
    assert priced["cost_per_pupil_per_tenth_sd"] > 0 and not priced["interval_includes_zero"]
    evidence = await api.get(f"{PLANS}/{maths}/evidence", "n-head")
    assert evidence["reactions"]["released_activities"] == 1
    assert evidence["organisational_support"]["records"] == 2
    # The five teachers' confidence: too few for an effect size, said plainly.
    [confidence] = comparisons(
        await api.get(f"{PLANS}/{maths}/impact", "n-head"), "Teacher confidence teaching reasoning"
    )
    assert confidence["effect_size"] is None and "too few" in confidence["reading"]

    # Too small to tell: 12 pupils, an interval that includes zero.
    [behaviour] = comparisons(
        await api.get(f"{PLANS}/{calm}/impact", "admin"), "Behaviour points per pupil"
    )
    small = behaviour["effect_size"]
    assert small is not None and small["ci_low"] < 0 < small["ci_high"], small
    assert "cannot rule out" in behaviour["reading"] and "improvement" in behaviour["reading"]
    assert "small_sample" in [w["code"] for w in behaviour["warnings"]]

    # Governors of the schools read the reports.
    report = await api.call("GET", f"{PLANS}/{maths}/report", "n-gov")
    assert "Does reasoning with representations" in report.text
    assert "standards committee" in report.text
    assert "Disadvantaged pupils: gap to the others" in report.text
    await api.call("GET", f"{PLANS}/{maths}/report", "s-gov", expect=404)
    for gov in ("n-gov", "s-gov"):
        chart = await api.call("GET", f"{PLANS}/{calm}/report.svg", gov)
        assert chart.headers["content-type"] == "image/svg+xml"

    # The maths plan was reported: told once.
    [reported] = await outbox(demo, catalogue.EvaluationReported.event_type)
    assert reported["data"]["evaluation_id"] == maths
