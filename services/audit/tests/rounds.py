"""Audit rounds that tests of needs start from."""

from __future__ import annotations

from typing import Any

from cpd_demo.trust import NORTHFIELD


async def open_principles_round(kit: Any, **audit: Any) -> dict[str, Any]:
    """An open values-v-practice round (the effective CPD principles) at Northfield, k=3;
    ``audit`` adds to the round's body (a title, say)."""
    principles = await kit.instrument_id("effective-cpd-principles")
    created = await kit.create_audit(
        instrument_id=principles,
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        as_="n-head",
        k=3,
        **audit,
    )
    await kit.transition(created["id"], "open", as_="n-head")
    return dict(created)


async def closed_round_with_a_gap(kit: Any, *, title: str) -> dict[str, Any]:
    """A closed principles round where principle 2 (sustained CPD with classroom enquiry) is
    valued far above what happens, so it is a suggested need."""
    audit = await open_principles_round(kit, title=title)
    answers = {str(n): {"values": 4, "practice": 4} for n in range(1, 9)}
    answers["2"] = {"values": 5, "practice": 2}
    for key in ("n-t1", "n-t2", "n-t3", "n-t4", "n-t5"):
        await kit.respond(audit["id"], key, answers)
    await kit.transition(audit["id"], "close", as_="n-head")
    return audit
