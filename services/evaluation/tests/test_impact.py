"""``GET /v1/evaluations/{id}/impact`` over real uploads: the SQL pairs each subject's values
and the effect sizes match what numpy and scipy compute from the same raw values; the honesty
thresholds (9 subjects: no effect size; 29: a warning), attrition counted, pupil groups under
5 withheld, and the plan's access rules (another trust 404, staff 403)."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from cpd_evaluation.impact import service as impact_service
from cpd_local.stack import Stack

from .conftest import Api, person_id
from .test_evaluation_plans import PLANS, new_activity, plan_body
from .test_outcome_evidence import closed_round, publish


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """Staff perception arrives as the audit service's close events."""
    return ("gateway", "audit", "evaluation")


Row = dict[str, Any]


async def new_plan(api: Api) -> str:
    return str((await api.post(PLANS, "n-head", plan_body(await new_activity(api))))["id"])


async def new_measure(api: Api, plan_id: str, name: str, **fields: Any) -> str:
    body = {"name": name, "kind": "test_score", "subjects": "pupils", **fields}
    return str((await api.post(f"{PLANS}/{plan_id}/measures", "n-head", body))["id"])


async def upload(api: Api, measure_id: str, rows: list[Row]) -> None:
    await api.post(f"/v1/measures/{measure_id}/observations", "n-head", {"observations": rows})


async def impact(api: Api, plan_id: str, who: str = "n-head") -> Any:
    return await api.get(f"{PLANS}/{plan_id}/impact", who)


def pupils(
    phase: str, values: list[float] | np.ndarray, *, prefix: str = "P", start: int = 0, **flags: Any
) -> list[Row]:
    return [
        {
            "pupil_id": f"{prefix}{start + i:04d}",
            "phase": phase,
            "value": round(float(v), 2),
            **flags,
        }
        for i, v in enumerate(values)
    ]


def only(measure: Any, from_phase: str, to_phase: str) -> Any:
    found = [
        c
        for c in measure["comparisons"]
        if (c["from_phase"], c["to_phase"]) == (from_phase, to_phase)
    ]
    assert len(found) == 1, measure["comparisons"]
    return found[0]


def codes(comparison: Any) -> list[str]:
    return [w["code"] for w in comparison["warnings"]]


def rounded(values: np.ndarray) -> np.ndarray:
    return np.round(values, 2)


async def test_same_pupils_twice_with_attrition(demo: Stack, api: Api) -> None:
    rng = np.random.default_rng(101)
    pre = rounded(rng.normal(50, 10, 40))
    post = rounded(pre[:35] + rng.normal(4, 6, 35))
    plan_id = await new_plan(api)
    measure_id = await new_measure(api, plan_id, "Year 5 reasoning test")
    # 40 at baseline, 35 of them again at short term (5 left), 2 newcomers only at short term.
    await upload(
        api,
        measure_id,
        pupils("baseline", pre)
        + pupils("short_term", post)
        + pupils("short_term", [55, 60], start=90),
    )

    body = await impact(api, plan_id)
    assert body["evaluation_id"] == plan_id
    assert body["thresholds"] == {
        "no_effect_size_below": 10,
        "small_sample_below": 30,
        "group_withheld_below": 5,
        "confidence": 0.95,
    }
    [measure] = body["measures"]
    assert measure["measure_id"] == measure_id and measure["higher_is_better"] is True
    assert measure["subjects_per_phase"] == {"baseline": 40, "short_term": 37, "medium_term": 0}
    assert [(c["from_phase"], c["to_phase"]) for c in measure["comparisons"]] == [
        ("baseline", "short_term")
    ]
    result = only(measure, "baseline", "short_term")
    assert result["design"] == "paired_change"
    assert "measured twice" in result["design_label"]

    before, after = pre[:35], post
    [arm] = result["arms"]
    assert arm["arm"] == "cpd" and arm["n"] == 35
    assert arm["before"]["mean"] == pytest.approx(before.mean(), abs=1e-9)
    assert arm["before"]["sd"] == pytest.approx(before.std(ddof=1), abs=1e-9)
    assert arm["after"]["mean"] == pytest.approx(after.mean(), abs=1e-9)
    assert arm["after"]["sd"] == pytest.approx(after.std(ddof=1), abs=1e-9)
    assert arm["mean_change"] == pytest.approx((after - before).mean(), abs=1e-9)
    r = float(scipy_stats.pearsonr(before, after).statistic)
    assert arm["correlation"] == pytest.approx(r, abs=1e-9)

    assert result["attrition"] == [
        {"arm": "cpd", "measured_before": 40, "missing_after": 5, "rate": 0.125, "only_after": 2}
    ]
    assert codes(result) == ["attrition"]
    assert "5 of the 40 pupils" in result["warnings"][0]["message"]

    # Borenstein's standardised mean change for matched groups, computed here from the raw
    # values: the mean change over the RMS of the two SDs, J with n - 1 df, the variance with r.
    n = 35
    d = (after - before).mean() / np.sqrt((before.var(ddof=1) + after.var(ddof=1)) / 2)
    j = 1 - 3 / (4 * (n - 1) - 1)
    se = j * np.sqrt((1 / n + d**2 / (2 * n)) * 2 * (1 - r))
    effect = result["effect_size"]
    assert effect["design"] == "paired_change"
    assert effect["d"] == pytest.approx(d, abs=1e-4)
    assert effect["value"] == pytest.approx(j * d, abs=1e-4)
    assert effect["standard_error"] == pytest.approx(se, abs=1e-4)
    assert effect["ci_low"] == pytest.approx(j * d - 1.959964 * se, abs=2e-4)
    assert effect["ci_high"] == pytest.approx(j * d + 1.959964 * se, abs=2e-4)
    assert effect["confidence"] == 0.95
    assert result["reading"].startswith(f"A {effect['magnitude']} improvement")
    assert "caution" not in result["reading"]

    # Governors of the school read it too; the ETag comes with it.
    resp = await api.call("GET", f"{PLANS}/{plan_id}/impact", "n-gov")
    assert resp.json() == body and resp.headers["etag"]


async def test_thresholds_9_and_29_subjects(demo: Stack, api: Api) -> None:
    rng = np.random.default_rng(9)
    plan_id = await new_plan(api)
    sizes = {"Nine pupils": 9, "Ten pupils": 10, "Twenty-nine pupils": 29, "Thirty pupils": 30}
    for name, size in sizes.items():
        measure_id = await new_measure(api, plan_id, name)
        pre = rounded(rng.normal(20, 4, size))
        post = rounded(pre + rng.normal(2, 2, size))
        await upload(api, measure_id, pupils("baseline", pre) + pupils("medium_term", post))
    measures = {m["name"]: m for m in (await impact(api, plan_id))["measures"]}

    nine = only(measures["Nine pupils"], "baseline", "medium_term")
    assert nine["effect_size"] is None
    assert codes(nine) == ["too_few_subjects"]
    assert nine["arms"][0]["n"] == 9 and nine["arms"][0]["mean_change"] is not None
    assert nine["reading"].startswith("Only 9 pupils were measured at both points")
    assert "raw mean change was +" in nine["reading"]

    ten = only(measures["Ten pupils"], "baseline", "medium_term")
    assert ten["effect_size"] is not None and codes(ten) == ["small_sample"]

    twenty_nine = only(measures["Twenty-nine pupils"], "baseline", "medium_term")
    assert twenty_nine["effect_size"] is not None
    assert codes(twenty_nine) == ["small_sample"]
    assert "Based on only 29 pupils" in twenty_nine["reading"]

    thirty = only(measures["Thirty pupils"], "baseline", "medium_term")
    assert thirty["effect_size"] is not None and codes(thirty) == []
    assert "caution" not in thirty["reading"]

    # The headline effects other figures use (QA feed, value for money): none from 9 pupils.
    async with demo.session("evaluation") as session:
        effects = await impact_service.programme_effects(session, [uuid.UUID(plan_id)])
    by_measure = {str(e.measure_id): e for e in effects}
    assert set(by_measure) == {
        measures[name]["measure_id"]
        for name in ("Ten pupils", "Twenty-nine pupils", "Thirty pupils")
    }
    headline = by_measure[measures["Thirty pupils"]["measure_id"]]
    assert (headline.from_phase, headline.to_phase, headline.n) == ("baseline", "medium_term", 30)
    assert headline.effect_size == pytest.approx(thirty["effect_size"]["value"], abs=1e-4)


async def test_cpd_group_against_a_comparison_group(demo: Stack, api: Api) -> None:
    rng = np.random.default_rng(2026)
    cpd_pre = rounded(rng.normal(100, 15, 42))
    cpd_post = rounded(cpd_pre + rng.normal(6, 8, 42))
    cmp_pre = rounded(rng.normal(100, 15, 36))
    cmp_post = rounded(cmp_pre + rng.normal(1, 8, 36))
    plan_id = await new_plan(api)
    # Behaviour points: fewer is better, so a larger rise reads as a decline.
    measure_id = await new_measure(
        api, plan_id, "Behaviour points", kind="behaviour_points", higher_is_better=False
    )
    await upload(
        api,
        measure_id,
        pupils("baseline", cpd_pre)
        + pupils("medium_term", cpd_post)
        + pupils("baseline", cmp_pre, prefix="C", group="comparison")
        + pupils("medium_term", cmp_post[:30], prefix="C", group="comparison"),
    )
    [measure] = (await impact(api, plan_id))["measures"]
    result = only(measure, "baseline", "medium_term")
    assert result["design"] == "groups_change"
    assert [a["arm"] for a in result["arms"]] == ["cpd", "comparison"]
    assert [a["n"] for a in result["arms"]] == [42, 30]
    assert result["attrition"][1] == {
        "arm": "comparison",
        "measured_before": 36,
        "missing_after": 6,
        "rate": pytest.approx(6 / 36),
        "only_after": 0,
    }
    assert codes(result) == ["attrition"]

    cpd_change, cmp_change = cpd_post - cpd_pre, cmp_post[:30] - cmp_pre[:30]
    # d from the two-sample t statistic of the change scores (scipy), and Hedges' J.
    t = float(scipy_stats.ttest_ind(cpd_change, cmp_change).statistic)
    d = t * np.sqrt(1 / 42 + 1 / 30)
    g = d * (1 - 3 / (4 * (42 + 30 - 2) - 1))
    # Borenstein's SE of g; statsmodels' variance differs by under 1% here.
    se = np.sqrt((72 / (42 * 30) + d**2 / (2 * 72)) * (1 - 3 / (4 * 70 - 1)) ** 2)
    effect = result["effect_size"]
    assert effect["design"] == "groups_change"
    assert effect["d"] == pytest.approx(d, abs=1e-4)
    assert effect["value"] == pytest.approx(g, abs=1e-4)
    assert effect["standard_error"] == pytest.approx(se, abs=0.003)
    assert effect["value"] > 0
    assert "decline" in result["reading"]

    # As a headline, oriented so that positive is an improvement: fewer points is better.
    async with demo.session("evaluation") as session:
        [headline] = await impact_service.programme_effects(session, [uuid.UUID(plan_id)])
    assert headline.design == "groups_change" and headline.n == 30
    assert headline.effect_size == pytest.approx(-effect["value"], abs=1e-4)


async def test_gaps_between_pupil_groups(demo: Stack, api: Api) -> None:
    plan_id = await new_plan(api)
    measure_id = await new_measure(api, plan_id, "Reading age (months)")
    rows: list[Row] = []
    # 12 disadvantaged pupils start 10 behind and gain 8; 20 others gain 3.
    # 3 pupils with SEND (too few to show); Year 6 has 2 pupils, Year 5 the other 30.
    for i in range(32):
        disadvantaged = i < 12
        before = 90.0 + (i % 4) - (10 if disadvantaged else 0)
        after = before + (8 if disadvantaged else 3) + (i % 3) * 0.5
        flags = {
            "disadvantaged": disadvantaged,
            "send": i in (3, 17, 25),
            "year_group": "Year 6" if i in (0, 31) else "Year 5",
        }
        rows += [
            {"pupil_id": f"G{i:03d}", "phase": "baseline", "value": before, **flags},
            {"pupil_id": f"G{i:03d}", "phase": "short_term", "value": after, **flags},
        ]
    await upload(api, measure_id, rows)
    [measure] = (await impact(api, plan_id))["measures"]
    gaps = {(g["flag"], g["value"]): g for g in only(measure, "baseline", "short_term")["gaps"]}
    assert set(gaps) == {
        ("disadvantaged", "true"),
        ("send", "true"),
        ("year_group", "Year 5"),
        ("year_group", "Year 6"),
    }

    values = {r["pupil_id"]: r for r in rows if r["phase"] == "baseline"}
    later = {r["pupil_id"]: r["value"] for r in rows if r["phase"] == "short_term"}
    group = [k for k, r in values.items() if r["disadvantaged"]]
    rest = [k for k, r in values.items() if not r["disadvantaged"]]
    mean = lambda keys, src: float(np.mean([src[k] for k in keys]))  # noqa: E731
    base = {k: r["value"] for k, r in values.items()}

    dis = gaps[("disadvantaged", "true")]
    assert dis["withheld"] is None
    assert dis["group"]["n"] == 12 and dis["rest"]["n"] == 20
    assert dis["group"]["mean_before"] == pytest.approx(mean(group, base))
    assert dis["rest"]["mean_after"] == pytest.approx(mean(rest, later))
    assert dis["gap_before"] == pytest.approx(mean(rest, base) - mean(group, base))
    assert dis["gap_after"] == pytest.approx(mean(rest, later) - mean(group, later))
    assert dis["gap_after"] < dis["gap_before"] and dis["narrowed"] is True

    # Too small to show: no figures at all, and the reason.
    for key, reason in [
        (("send", "true"), "group_under_5"),
        (("year_group", "Year 6"), "group_under_5"),
        (("year_group", "Year 5"), "rest_under_5"),
    ]:
        assert gaps[key]["withheld"] == reason
        assert gaps[key]["group"] is None and gaps[key]["rest"] is None
        assert gaps[key]["gap_before"] is None and gaps[key]["narrowed"] is None


async def test_staff_measure_and_all_three_phase_pairs(demo: Stack, api: Api) -> None:
    plan_id = await new_plan(api)
    measure_id = await new_measure(
        api, plan_id, "Confidence teaching reasoning", kind="staff_confidence", subjects="staff"
    )
    staff = ["n-t1", "n-t2", "n-head"]
    rows = [
        {"person_id": person_id(p), "phase": phase, "value": value + k}
        for k, p in enumerate(staff)
        for phase, value in (("baseline", 2), ("short_term", 3), ("medium_term", 4))
    ]
    await upload(api, measure_id, rows)
    [measure] = (await impact(api, plan_id))["measures"]
    assert [(c["from_phase"], c["to_phase"]) for c in measure["comparisons"]] == [
        ("baseline", "short_term"),
        ("baseline", "medium_term"),
        ("short_term", "medium_term"),
    ]
    for comparison in measure["comparisons"]:
        assert comparison["gaps"] == []
        assert comparison["effect_size"] is None
        assert comparison["reading"].startswith("Only 3 staff were measured at both points")
    assert only(measure, "baseline", "medium_term")["arms"][0]["mean_change"] == 2


async def test_access_follows_the_plan(demo: Stack, api: Api) -> None:
    plan_id = await new_plan(api)
    path = f"{PLANS}/{plan_id}/impact"
    assert (await impact(api, plan_id))["measures"] == []
    # A measure with only its baseline so far: held, but nothing to compare yet.
    measure_id = await new_measure(api, plan_id, "Times tables check")
    await upload(api, measure_id, pupils("baseline", [12, 15, 18]))
    [measure] = (await impact(api, plan_id))["measures"]
    assert measure["subjects_per_phase"] == {"baseline": 3, "short_term": 0, "medium_term": 0}
    assert measure["comparisons"] == []
    await api.call("GET", path, "n-gov")
    # Staff are refused before any lookup; another school's leader and another trust see
    # nothing, exactly as for a missing plan.
    await api.call("GET", path, "n-t1", expect=403)
    for who in ("s-head", "s-gov", "r-admin"):
        resp = await api.call("GET", path, who, expect=404)
        assert resp.headers["content-type"].startswith("application/problem+json")
    await api.call(
        "GET", f"{PLANS}/0190d5a0-0000-7000-8000-000000000000/impact", "n-head", expect=404
    )


async def test_staff_perception_from_two_audit_rounds(demo: Stack, api: Api) -> None:
    plan_id = await new_plan(api)
    baseline_id, outcome_id = uuid.uuid4(), uuid.uuid4()
    # Borenstein's independent-groups example on a 1-5 scale (standardised, it is the same:
    # d = 0.5970, g = 0.5924); a values-and-practice item; an item too few answered; an item
    # the audit withheld at baseline; an item only in the later round.
    items = {
        baseline_id: [
            {"item_key": "1a", "n": 50, "mean": 3.0, "sd": 0.45},
            {"item_key": "1b", "n": 40, "mean_practice": 2.5, "sd_practice": 0.8},
            {"item_key": "1c", "n": 8, "mean": 3.2, "sd": 0.6},
            {"item_key": "1d", "withheld": "fewer_than_min_group_size"},
        ],
        outcome_id: [
            {"item_key": "1a", "n": 50, "mean": 3.3, "sd": 0.55},
            {"item_key": "1b", "n": 38, "mean_practice": 2.9, "sd_practice": 0.7},
            {"item_key": "1c", "n": 12, "mean": 3.6, "sd": 0.5},
            {"item_key": "1d", "n": 20, "mean": 3.9, "sd": 0.5},
            {"item_key": "1e", "n": 20, "mean": 3.1, "sd": 0.5},
        ],
    }
    # The rounds arrive as the audit service's close events; the plan names them as a pair.
    instrument = uuid.uuid4()
    await publish(
        demo,
        "audit",
        closed_round(baseline_id, instrument, items[baseline_id], respondents=52),
        closed_round(outcome_id, instrument, items[outcome_id], respondents=50),
    )
    pair = {"baseline_audit_id": str(baseline_id), "outcome_audit_id": str(outcome_id)}
    await api.put(f"{PLANS}/{plan_id}/audit-rounds", "n-head", pair)

    perception = (await impact(api, plan_id))["perception"]
    assert perception["baseline_audit_id"] == str(baseline_id)
    assert (perception["baseline_respondents"], perception["outcome_respondents"]) == (52, 50)
    got = {i["item_key"]: i for i in perception["items"]}
    assert list(got) == ["1a", "1b", "1c", "1d", "1e"]

    a = got["1a"]
    assert a["facet"] == "score" and a["mean_change"] == pytest.approx(0.3)
    assert a["effect_size"]["design"] == "audit_aggregates"
    assert a["effect_size"]["d"] == pytest.approx(0.5970, abs=1e-4)
    assert a["effect_size"]["value"] == pytest.approx(0.5924, abs=1e-4)
    assert a["effect_size"]["standard_error"] == pytest.approx(0.2028, abs=0.002)
    assert a["warnings"] == [] and a["reading"].startswith("A medium improvement")

    b = got["1b"]
    assert b["facet"] == "practice"
    assert (b["baseline"]["mean"], b["outcome"]["mean"]) == (2.5, 2.9)
    assert b["effect_size"] is not None

    c = got["1c"]
    assert c["effect_size"] is None and [w["code"] for w in c["warnings"]] == ["too_few_subjects"]
    assert c["reading"].startswith("Only 8 respondents")

    assert got["1d"]["withheld"] == "fewer_than_min_group_size"
    assert got["1d"]["effect_size"] is None and got["1d"]["mean_change"] is None
    assert got["1e"]["withheld"] == "not_in_baseline_round"


async def test_a_withheld_year_group_cannot_be_recovered_by_subtraction(
    demo: Stack, api: Api
) -> None:
    plan_id = await new_plan(api)
    measure_id = await new_measure(api, plan_id, "Spelling age (months)")
    years = ["Year 4"] * 10 + ["Year 5"] * 10 + ["Year 6"] * 3
    rows: list[Row] = []
    for i, year in enumerate(years):
        before = 80.0 + i % 7 + (15 if year == "Year 6" else 0)
        rows += [
            {"pupil_id": f"Y{i:03d}", "phase": "baseline", "value": before, "year_group": year},
            {
                "pupil_id": f"Y{i:03d}",
                "phase": "short_term",
                "value": before + 2 + i % 3,
                "year_group": year,
            },
        ]
    await upload(api, measure_id, rows)
    [measure] = (await impact(api, plan_id))["measures"]
    comparison = only(measure, "baseline", "short_term")
    gaps = {g["value"]: g for g in comparison["gaps"] if g["flag"] == "year_group"}
    assert gaps["Year 6"]["withheld"] == "group_under_5"
    # With Year 6 alone withheld, the whole group minus Years 4 and 5 would be Year 6: the
    # smaller (here the first) of the others goes too.
    assert gaps["Year 4"]["withheld"] == "complementary" and gaps["Year 4"]["group"] is None
    assert gaps["Year 5"]["withheld"] is None

    # The attack: subtract every figure shown from the whole group's. What is left must be
    # at least 5 pupils, never Year 6 alone.
    whole = comparison["arms"][0]
    shown = [g["group"] for g in gaps.values() if g["group"] is not None]
    left_n = whole["n"] - sum(s["n"] for s in shown)
    assert left_n >= 5
    left_sum = whole["before"]["mean"] * whole["n"] - sum(s["mean_before"] * s["n"] for s in shown)
    year_6 = [r["value"] for r in rows if r["phase"] == "baseline" and r["year_group"] == "Year 6"]
    assert left_sum / left_n != pytest.approx(float(np.mean(year_6)))
    # Year 5's rest is Years 4 and 6 together (13 pupils), not Year 6.
    assert gaps["Year 5"]["rest"]["n"] == 13
