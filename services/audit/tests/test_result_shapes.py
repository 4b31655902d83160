"""Items and sections share one result shape: the same figures, distributions zero-filled
over the scale, and 0.0 (never null) for a percentage with nothing in it."""

from __future__ import annotations

from typing import Any

from cpd_demo.trust import NORTHFIELD

INSTRUMENT = {
    "key": "shape-check",
    "title": "Shape check",
    "sections": [{"key": "agree", "title": "Agreement"}, {"key": "pair", "title": "Paired"}],
    "items": [
        {"key": "a1", "section": "agree", "type": "agreement", "text": "CPD is useful."},
        {"key": "a2", "section": "agree", "type": "agreement", "text": "CPD is timely."},
        {"key": "p1", "section": "pair", "type": "paired_scale", "text": "Coaching."},
    ],
}
ITEM_ONLY = {"item_key", "type", "text", "comments", "gap_rank"}
SECTION_ONLY = {"title"}


async def test_sections_have_the_shape_of_items_zero_filled(kit: Any) -> None:
    created = await kit.gw.post("/v1/instruments", json=INSTRUMENT, headers=await kit.h("admin"))
    assert created.status_code == 201, created.text
    audit = await kit.create_audit(
        instrument_id=created.json()["id"],
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        groups=["teacher"],
        k=3,
    )
    await kit.transition(audit["id"], "open")
    # Nobody agrees (scores 1 and 2), nobody says don't know, values and practice at 2-3.
    for index, key in enumerate(["n-t1", "n-t2", "n-t3", "n-t4"]):
        score = 1 + index % 2
        await kit.respond(
            audit["id"],
            key,
            {
                "a1": {"score": score},
                "a2": {"score": score},
                "p1": {"values": 3, "practice": 2 + index % 2},
            },
        )
    await kit.transition(audit["id"], "close")
    results = await kit.results(audit["id"])

    a1 = kit.item(results, "a1")
    agree = next(s for s in results["sections"] if s["section"] == "agree")
    pair = next(s for s in results["sections"] if s["section"] == "pair")
    # The same figures on both, apart from what names an item or a section.
    assert set(a1) - ITEM_ONLY - {"section"} == set(agree) - SECTION_ONLY - {"section"}
    for figures in (a1, agree):
        assert figures["distribution"] == {"1": 2, "2": 2, "3": 0, "4": 0, "5": 0, "dont_know": 0}
        assert figures["percent_agree"] == 0.0
        assert figures["percent_dont_know"] == 0.0
        assert figures["scale_max"] == 5 and figures["n"] == 4 and figures["n_scored"] == 4
        assert figures["mean"] == 1.5
    p1 = kit.item(results, "p1")
    for figures in (p1, pair):
        assert figures["distribution_values"] == {"1": 0, "2": 0, "3": 4, "4": 0, "5": 0}
        assert figures["distribution_practice"] == {"1": 0, "2": 2, "3": 2, "4": 0, "5": 0}
        assert figures["mean_values"] == 3.0 and figures["mean_practice"] == 2.5
        assert figures["gap"] == 0.5 and figures["sd_values"] == 0.0
        assert figures["sd_practice"] is not None
