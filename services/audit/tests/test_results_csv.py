"""The results CSV cannot carry a formula: item texts, section titles, department names and
group labels that start like one get a leading quote; numbers (negative gaps too) stay
numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY

INSTRUMENT = {
    "key": "formula-check",
    "title": "Formula check",
    "sections": [{"key": "s1", "title": "-2+3 section"}],
    "items": [
        {
            "key": "p",
            "section": "s1",
            "type": "paired_scale",
            "text": '=HYPERLINK("http://example.invalid","click")',
        },
        {"key": "a", "section": "s1", "type": "agreement", "text": "@SUM(1+1)"},
    ],
}
TEACHERS = ["n-t1", "n-t2", "n-t3", "n-t4"]


async def test_csv_cells_that_start_like_formulas_are_neutralised(kit: Any) -> None:
    admin = await kit.h("admin")
    for key in TEACHERS:  # a department name that would run as a formula
        url = f"/v1/people/{PEOPLE_BY_KEY[key].id}"
        etag = (await kit.gw.get(url, headers=admin)).headers["etag"]
        done = await kit.gw.patch(
            url, json={"department": "+cmd"}, headers={**admin, "If-Match": etag}
        )
        assert done.status_code == 200, done.text
    await kit.stack.settle()
    created = await kit.gw.post("/v1/instruments", json=INSTRUMENT, headers=admin)
    assert created.status_code == 201, created.text
    audit = await kit.create_audit(
        instrument_id=created.json()["id"],
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        groups=["teacher"],
        k=3,
    )
    await kit.transition(audit["id"], "open")
    for key in TEACHERS:  # practice above values: a negative gap
        await kit.respond(audit["id"], key, {"p": {"values": 2, "practice": 4}, "a": {"score": 4}})
    await kit.transition(audit["id"], "close")

    resp = await kit.gw.get(f"/v1/audits/{audit['id']}/results.csv?by=department", headers=admin)
    assert resp.status_code == 200, resp.text
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    overall = {r["key"]: r for r in rows if r["group"] == "all"}
    assert overall["p"]["text"] == '\'=HYPERLINK("http://example.invalid","click")'
    assert overall["a"]["text"] == "'@SUM(1+1)"
    assert overall["s1"]["text"] == "'-2+3 section"
    assert float(overall["p"]["gap"]) == -2.0
    cell = [r for r in rows if r["group"] != "all"]
    assert cell and all(r["department"] == "'+cmd" and r["group"] == "'+cmd" for r in cell)
    # No cell of the whole file starts a formula.
    for row in csv.reader(io.StringIO(resp.text)):
        for value in row:
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            if value.startswith("-"):
                float(value)
