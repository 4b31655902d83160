"""A closed audit's breakdown inputs are stored after the close, by the audit worker on the
close's event (``results.breakdown_store``):
every breakdown read from them is byte for byte the one computed from the answers, withheld
cells included, because suppression is still decided and applied on every read from the same
inputs; dimensions not stored, and audits without stored rows, are computed from the answers."""

from __future__ import annotations

import json
import random
import uuid
from itertools import permutations
from typing import Any

from sqlalchemy import text

from cpd_audit.results import breakdown_store, queries, suppression

MIXED = {
    "key": "breakdowns-mixed",
    "title": "Breakdowns check",
    "sections": [{"key": "a", "title": "Agreement"}, {"key": "p", "title": "Paired"}],
    "items": [
        {"key": "a1", "section": "a", "type": "agreement", "text": "One."},
        {"key": "a2", "section": "a", "type": "agreement", "text": "Two.", "required": False},
        {"key": "p1", "section": "p", "type": "paired_scale", "text": "Three.", "scale_max": 7},
        {"key": "p2", "section": "p", "type": "paired_scale", "text": "Four.", "scale_max": 7},
    ],
}

ALL_BY = [",".join(d) for d in permutations(suppression.DIMENSIONS, 1)] + [
    ",".join(d) for d in permutations(suppression.DIMENSIONS, 2)
]


def answers(rng: random.Random, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "a1": {"dont_know": True} if index % 7 == 0 else {"score": rng.randint(1, 5)},
        "p1": {"values": rng.randint(1, 7), "practice": rng.randint(1, 7)},
        "p2": {"values": rng.randint(1, 7), "practice": rng.randint(1, 7)},
    }
    if index % 3:
        out["a2"] = {"dont_know": True} if index % 5 == 0 else {"score": rng.randint(1, 5)}
    return out


async def _closed_audit(kit: Any, k: int = 3) -> str:
    resp = await kit.gw.post("/v1/instruments", json=MIXED, headers=await kit.h("admin"))
    assert resp.status_code == 201, resp.text
    audit = await kit.create_audit(instrument_id=resp.json()["id"], k=k)
    await kit.transition(audit["id"], "open")
    rng = random.Random(7)
    for index, person in enumerate(kit.people()):
        await kit.respond(audit["id"], person.key, answers(rng, index))
    await kit.transition(audit["id"], "close")
    # The audit worker stores the breakdown inputs once the close has committed.
    await kit.stack.settle()
    return str(audit["id"])


async def _bodies(kit: Any, audit_id: str, views: list[tuple[str, str]]) -> dict[Any, bytes]:
    out = {}
    for who, by in views:
        for path in ("results", "results.csv"):
            resp = await kit.gw.get(
                f"/v1/audits/{audit_id}/{path}?by={by}", headers=await kit.h(who)
            )
            assert resp.status_code == 200, (who, by, resp.text)
            out[(who, by, path)] = resp.content
    return out


async def _stored_counts(kit: Any, audit_id: str) -> tuple[int, int]:
    async with kit.stack.session("audit") as session:
        row = await session.execute(
            text(
                "SELECT (SELECT count(*) FROM audit_result_atoms WHERE audit_id = :a), "
                "(SELECT count(*) FROM audit_result_breakdowns WHERE audit_id = :a)"
            ),
            {"a": uuid.UUID(audit_id)},
        )
        return tuple(row.one())  # type: ignore[return-value]


async def test_stored_breakdowns_equal_the_scanned_ones(kit: Any, monkeypatch: Any) -> None:
    audit_id = await _closed_audit(kit)
    assert await _stored_counts(kit, audit_id) == (1, len(breakdown_store.STORED))
    # Every dimension and pair as a trust admin; a staff member of one school sees only their
    # schools' cells (school x the dimension asked for).
    views = [("admin", by) for by in ALL_BY] + [
        ("s-t1", d) for d in suppression.DIMENSIONS if d != "school"
    ]
    stored = await _bodies(kit, audit_id, views)
    withheld = [
        cell["withheld"]
        for (_, by, path), body in stored.items()
        if path == "results"
        for cell in json.loads(body)["breakdown"]
        if cell["withheld"]
    ]
    assert any("fewer than 3" in w for w in withheld), "no primary suppression exercised"
    assert any("worked out" in w for w in withheld), "no complementary suppression exercised"

    # The stored dimensions read no answer at all.
    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("scanned the answers of a closed audit with stored breakdowns")

    with monkeypatch.context() as m:
        for name in ("atom_counts", "item_figures", "section_figures"):
            m.setattr(queries, name, no_scan)
        stored_only = [
            (who, by)
            for who, by in views
            if who != "admin"
            or tuple(sorted(by.split(","), key=suppression.DIMENSIONS.index))
            in breakdown_store.STORED
        ]
        assert len(stored_only) == 5 + 4 * 2 + 4
        again = await _bodies(kit, audit_id, stored_only)
    assert again == {key: stored[key] for key in again}

    # The scan path (as for an audit closed before breakdowns were stored) gives the same bytes.
    async def nothing(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as m:
        m.setattr(breakdown_store, "atoms_stamp", nothing)
        m.setattr(breakdown_store, "rows", nothing)
        assert await _bodies(kit, audit_id, views) == stored

    async with kit.stack.session("audit") as session:
        for table in ("audit_result_atoms", "audit_result_breakdowns"):
            await session.execute(
                text(f"DELETE FROM {table} WHERE audit_id = :a"), {"a": uuid.UUID(audit_id)}
            )
        await session.commit()
    assert await _bodies(kit, audit_id, views) == stored


async def test_stored_rows_are_what_every_read_suppresses(kit: Any) -> None:
    """The stored cell figures are raw (before suppression): a change to them shows in a
    published cell, and a withheld cell stays withheld whatever they say."""
    audit_id = await _closed_audit(kit, k=5)
    before = await kit.results(audit_id, by="staff_group")
    shown = next(c for c in before["breakdown"] if not c["withheld"])
    hidden = [c for c in before["breakdown"] if c["withheld"]]
    assert hidden
    async with kit.stack.session("audit") as session:
        await session.execute(
            text(
                "UPDATE audit_result_breakdowns SET items = ("
                " SELECT jsonb_agg(CASE WHEN r->>'kind' = 'summary'"
                " THEN jsonb_set(r, '{mean_values}', '1.0') ELSE r END)"
                " FROM jsonb_array_elements(items) r)"
                " WHERE audit_id = :a AND dims = 'staff_group'"
            ),
            {"a": uuid.UUID(audit_id)},
        )
        await session.commit()
    after = await kit.results(audit_id, by="staff_group")
    cell = kit.cell(after, **shown["group"])
    assert kit.item(cell, "p1")["mean_values"] == 1.0
    for withheld in hidden:
        again = kit.cell(after, **withheld["group"])
        assert again["withheld"] == withheld["withheld"]
        assert all(i["mean_values"] is None for i in again["items"])


async def test_the_close_does_not_wait_for_the_breakdowns_and_reads_agree_before_and_after(
    kit: Any,
) -> None:
    """The close answers with the whole-audit figures stored and no breakdown inputs yet;
    breakdowns read meanwhile are computed from the answers and equal the stored ones once
    the worker has handled ``audit.audit.closed`` (handled once: a second close event for the
    same audit would store nothing twice)."""
    resp = await kit.gw.post(
        "/v1/instruments", json={**MIXED, "key": "breakdowns-later"}, headers=await kit.h("admin")
    )
    assert resp.status_code == 201, resp.text
    audit = await kit.create_audit(instrument_id=resp.json()["id"], k=3)
    await kit.transition(audit["id"], "open")
    rng = random.Random(11)
    for index, person in enumerate(kit.people()):
        await kit.respond(audit["id"], person.key, answers(rng, index))
    await kit.transition(audit["id"], "close")
    audit_id = str(audit["id"])
    assert await _stored_counts(kit, audit_id) == (0, 0)
    views = [("admin", "school"), ("admin", "staff_group"), ("n-head", "career_stage")]
    before = await _bodies(kit, audit_id, views)

    await kit.stack.settle()
    atoms, sets = await _stored_counts(kit, audit_id)
    assert atoms == 1 and sets == len(breakdown_store.STORED), (atoms, sets)
    assert await _bodies(kit, audit_id, views) == before
