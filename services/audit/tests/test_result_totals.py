"""A closed audit's whole-audit figures are stored by the close and read back: the stored
results equal the ones computed from the answers, and a section's distribution counts each
respondent once per value given to any of its items."""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import text

MIXED = {
    "key": "totals-mixed",
    "title": "Totals check",
    "sections": [{"key": "a", "title": "Agreement"}, {"key": "p", "title": "Paired"}],
    "items": [
        {"key": "a1", "section": "a", "type": "agreement", "text": "One."},
        {"key": "a2", "section": "a", "type": "agreement", "text": "Two.", "required": False},
        {"key": "p1", "section": "p", "type": "paired_scale", "text": "Three.", "scale_max": 7},
        {"key": "p2", "section": "p", "type": "paired_scale", "text": "Four.", "scale_max": 7},
    ],
}


def answers(rng: random.Random, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "a1": {"dont_know": True} if index % 7 == 0 else {"score": rng.randint(1, 5)},
        "p1": {"values": rng.randint(1, 7), "practice": rng.randint(1, 7)},
        "p2": {"values": rng.randint(1, 7), "practice": rng.randint(1, 7)},
    }
    if index % 3:
        out["a2"] = {"dont_know": True} if index % 5 == 0 else {"score": rng.randint(1, 5)}
    return out


async def _stored(kit: Any, audit_id: str) -> int:
    async with kit.stack.session("audit") as session:
        return int(
            (
                await session.execute(
                    text("SELECT count(*) FROM audit_result_totals WHERE audit_id = :a"),
                    {"a": uuid.UUID(audit_id)},
                )
            ).scalar_one()
        )


async def test_close_stores_the_figures_and_they_equal_the_live_ones(kit: Any) -> None:
    resp = await kit.gw.post("/v1/instruments", json=MIXED, headers=await kit.h("admin"))
    assert resp.status_code == 201, resp.text
    audit = await kit.create_audit(instrument_id=resp.json()["id"], k=3)
    await kit.transition(audit["id"], "open")
    rng = random.Random(11)
    submitted = []
    for index, person in enumerate(kit.people()[:16]):
        given = answers(rng, index)
        await kit.respond(audit["id"], person.key, given)
        submitted.append(given)
    assert await _stored(kit, audit["id"]) == 0
    await kit.transition(audit["id"], "close")
    assert await _stored(kit, audit["id"]) == 1

    stored = await kit.results(audit["id"])
    by_group = await kit.results(audit["id"], by="staff_group")
    assert stored["respondents"] == 16

    # A section's distribution: respondents who gave the value to any of its items.
    section = next(s for s in stored["sections"] if s["section"] == "a")
    for value in [*map(str, range(1, 6)), "dont_know"]:
        expected = sum(
            1
            for given in submitted
            if any(
                ("dont_know" if a.get("dont_know") else str(a.get("score"))) == value
                for key, a in given.items()
                if key.startswith("a")
            )
        )
        assert section["distribution"][value] == expected, value
    paired = next(s for s in stored["sections"] if s["section"] == "p")
    for value in map(str, range(1, 8)):
        expected = sum(
            1
            for given in submitted
            if value in (str(given["p1"]["values"]), str(given["p2"]["values"]))
        )
        assert paired["distribution_values"][value] == expected, value
    assert section["n"] == 16 and paired["n"] == 16

    # Without the stored row, the same figures come from the answers.
    async with kit.stack.session("audit") as session:
        await session.execute(
            text("DELETE FROM audit_result_totals WHERE audit_id = :a"),
            {"a": uuid.UUID(audit["id"])},
        )
        await session.commit()
    assert await kit.results(audit["id"]) == stored
    assert await kit.results(audit["id"], by="staff_group") == by_group
