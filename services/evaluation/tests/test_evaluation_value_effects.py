"""Measures in the evidence by level, and value for money priced against the effect sizes
the impact analysis finds: cost per pupil per 0.1 SD computed here from the impact endpoint's
own effect size, in the direction of better, and nothing priced without an effect size."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from cpd_local.stack import Stack

from .conftest import Api, person_id
from .test_evaluation_plans import PLANS, plan_body
from .test_impact import new_measure, pupils, rounded, upload

STAFF = ["n-t1", "n-t2", "n-t3", "n-t4"]


def cents(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


async def test_effects_are_priced_per_pupil_per_tenth_of_a_standard_deviation(
    demo: Stack, api: Api
) -> None:
    aid = str(
        (
            await api.create_activity(
                costs={"fees": "1800", "materials": "45.50", "supply_cover": "600"}
            )
        )["id"]
    )
    plan = await api.post(PLANS, "n-head", plan_body(aid, pupils_reached=120))
    pid = plan["id"]
    rng = np.random.default_rng(7)
    pre = rounded(rng.normal(50, 10, 40))
    post = rounded(pre + rng.normal(5, 5, 40))
    reasoning = await new_measure(api, pid, "Year 5 reasoning test")
    await upload(api, reasoning, pupils("baseline", pre) + pupils("medium_term", post))
    # Behaviour points: lower is better, and they fell.
    before = rounded(rng.normal(12, 4, 30))
    after = rounded(before - rng.normal(3, 2, 30))
    behaviour = await new_measure(
        api, pid, "Behaviour points", kind="behaviour_points", higher_is_better=False
    )
    await upload(api, behaviour, pupils("baseline", before) + pupils("short_term", after))
    # Too few pupils for an effect size: nothing to price.
    few = await new_measure(api, pid, "Spelling")
    await upload(api, few, pupils("baseline", [1, 2, 3, 4]) + pupils("short_term", [2, 3, 4, 6]))
    # Staff measures land at their levels.
    observed = await new_measure(
        api, pid, "Questioning observed", kind="observation_rating", subjects="staff"
    )
    await upload(
        api,
        observed,
        [{"person_id": person_id(p), "phase": "baseline", "value": 2} for p in STAFF],
    )
    confidence = await new_measure(
        api, pid, "Confidence", kind="staff_confidence", subjects="staff"
    )
    await upload(
        api, confidence, [{"person_id": person_id("n-t1"), "phase": "baseline", "value": 3}]
    )

    impact = await api.get(f"{PLANS}/{pid}/impact", "n-head")
    g: dict[str, float] = {}
    for m in impact["measures"]:
        for c in m["comparisons"]:
            if c["effect_size"] is not None:
                g[m["name"]] = c["effect_size"]["value"]
    assert set(g) == {"Year 5 reasoning test", "Behaviour points"}
    assert g["Year 5 reasoning test"] > 0 > g["Behaviour points"]

    value = await api.get(f"{PLANS}/{pid}/value", "n-head")
    total = Decimal("1800") + Decimal("45.50") + Decimal("600")
    per_pupil = total / 120
    assert value["costs"]["total"] == float(total) and value["per_pupil"] == cents(per_pupil)
    by_name: dict[str, Any] = {e["name"]: e for e in value["effects"]}
    assert set(by_name) == set(g)
    reasoning_value = by_name["Year 5 reasoning test"]
    assert (reasoning_value["from_phase"], reasoning_value["to_phase"]) == (
        "baseline",
        "medium_term",
    )
    assert reasoning_value["design"] == "paired_change"
    assert reasoning_value["effect_size"] == g["Year 5 reasoning test"]
    assert reasoning_value["cost_per_pupil_per_tenth_sd"] == cents(
        per_pupil / (Decimal(str(g["Year 5 reasoning test"])) / Decimal("0.1"))
    )
    # Lower is better: the fall is the improvement that is priced.
    behaviour_value = by_name["Behaviour points"]
    assert behaviour_value["improvement"] == -g["Behaviour points"]
    assert behaviour_value["cost_per_pupil_per_tenth_sd"] == cents(
        per_pupil / (Decimal(str(-g["Behaviour points"])) / Decimal("0.1"))
    )
    assert value["effects_reason"] is None

    # Without pupils reached the effects stay, unpriced, with the reason.
    await api.patch(f"{PLANS}/{pid}", "n-head", {"pupils_reached": None})
    unpriced = (await api.get(f"{PLANS}/{pid}/value", "n-head"))["effects"]
    assert {e["cost_per_pupil_per_tenth_sd"] for e in unpriced} == {None}
    assert all("Pupils reached" in e["reason"] for e in unpriced)

    ev = await api.get(f"{PLANS}/{pid}/evidence", "n-head")
    level5 = {m["name"]: m for m in ev["pupil_outcomes"]["measures"]}
    assert set(level5) == {"Year 5 reasoning test", "Behaviour points", "Spelling"}
    assert (level5["Spelling"]["baseline"], level5["Spelling"]["short_term"]) == (4, 4)
    assert level5["Year 5 reasoning test"]["medium_term"] == 40
    [observation] = ev["use_of_knowledge_and_skills"]["observation_measures"]
    assert (observation["name"], observation["baseline"]) == ("Questioning observed", 4)
    [staff] = ev["learning"]["staff_measures"]
    assert (staff["name"], staff["baseline"], staff["subjects"]) == ("Confidence", 1, "staff")


async def test_a_plan_without_measures_prices_nothing_and_says_why(demo: Stack, api: Api) -> None:
    aid = str((await api.create_activity())["id"])
    plan = await api.post(PLANS, "n-head", plan_body(aid, pupils_reached=30))
    value = await api.get(f"{PLANS}/{plan['id']}/value", "n-head")
    assert value["effects"] == []
    assert "No effect size to price" in value["effects_reason"]
    assert value["per_pupil"] == cents((Decimal("450") + Decimal("20") + Decimal("360")) / 30)
