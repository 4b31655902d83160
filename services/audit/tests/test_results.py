"""Results checked against figures computed here from the answers that were submitted;
suppression of small groups (primary and complementary); the chart; the CSV; comparison of
rounds; leaders v staff; suggested needs."""

from __future__ import annotations

import csv
import io
import random
import statistics
import xml.etree.ElementTree as ET
from typing import Any

from cpd_gateway.demo_data import NORTHFIELD, SOUTHBANK

PRINCIPLES = [str(n) for n in range(1, 9)]
SVG = "{http://www.w3.org/2000/svg}"


def close(a: float | None, b: float, tol: float = 0.0011) -> bool:
    return a is not None and abs(a - b) <= tol


async def test_values_v_practice_results_match_the_answers_and_hide_small_groups(
    kit: Any,
) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    # Teachers (15), teaching assistants (5) and support staff (4) of both schools.
    audit = await kit.create_audit(
        instrument_id=principles, groups=["teacher", "teaching_assistant", "support"]
    )
    await kit.transition(audit["id"], "open")
    rng = random.Random(7)
    submitted: list[tuple[Any, dict[str, Any]]] = []
    for person in kit.people(groups=["teacher", "teaching_assistant", "support"]):
        answers = kit.paired_answers(rng, PRINCIPLES)
        await kit.respond(audit["id"], person.key, answers)
        submitted.append((person, answers))
    assert len(submitted) == 24

    results = await kit.results(audit["id"])
    assert results["respondents"] == 24 and results["paired"] is True
    gaps = {}
    for key in PRINCIPLES:
        values = [a[key]["values"] for _, a in submitted]
        practice = [a[key]["practice"] for _, a in submitted]
        got = kit.item(results, key)
        assert got["n"] == 24 and got["withheld"] is None
        assert close(got["mean_values"], statistics.mean(values))
        assert close(got["mean_practice"], statistics.mean(practice))
        assert close(got["sd_values"], statistics.stdev(values))
        assert close(got["sd_practice"], statistics.stdev(practice))
        gaps[key] = statistics.mean(values) - statistics.mean(practice)
        assert close(got["gap"], gaps[key])
        assert got["distribution_values"] == {str(s): values.count(s) for s in range(1, 6)}
        assert got["distribution_practice"] == {str(s): practice.count(s) for s in range(1, 6)}
    expected_rank = sorted(PRINCIPLES, key=lambda k: (-round(gaps[k], 3), k))
    assert results["ranked_by_gap"] == expected_rank
    assert [kit.item(results, k)["gap_rank"] for k in expected_rank] == list(range(1, 9))

    # By staff group: support staff (4) are under 5 and withheld; so is the next smallest
    # group (teaching assistants, 5), or support staff = all - teachers - assistants.
    by_group = await kit.results(audit["id"], by="staff_group")
    support = kit.cell(by_group, staff_group="support")
    assistants = kit.cell(by_group, staff_group="teaching_assistant")
    teachers = kit.cell(by_group, staff_group="teacher")
    assert support["respondents"] is None and "fewer than 5" in support["withheld"]
    assert assistants["respondents"] is None and "worked out" in assistants["withheld"]
    assert all(i["mean_values"] is None and i["n"] is None for i in support["items"])
    assert all(i["mean_values"] is None for i in assistants["items"])
    teacher_answers = [a for p, a in submitted if p.staff_group == "teacher"]
    assert teachers["respondents"] == 15
    for key in PRINCIPLES:
        got = next(i for i in teachers["items"] if i["item_key"] == key)
        assert close(got["mean_values"], statistics.mean(a[key]["values"] for a in teacher_answers))
    # What the published figures let anyone work out is the two withheld groups together.
    total_values = sum(a["1"]["values"] for _, a in submitted)
    published = next(i for i in teachers["items"] if i["item_key"] == "1")
    left = total_values - published["mean_values"] * 15
    support_only = sum(a["1"]["values"] for p, a in submitted if p.staff_group == "support")
    both = sum(
        a["1"]["values"] for p, a in submitted if p.staff_group in ("support", "teaching_assistant")
    )
    assert abs(left - both) < 0.05 and abs(both - support_only) > 0

    # Two-way: every withheld cell shares its row and its column with another withheld cell
    # whenever the row or column total is published.
    two_way = await kit.results(audit["id"], by="school,staff_group")
    by_school = await kit.results(audit["id"], by="school")
    assert all(c["withheld"] is None for c in by_school["breakdown"])  # 12 and 12
    for school in (str(NORTHFIELD), str(SOUTHBANK)):
        row = [c for c in two_way["breakdown"] if c["group"]["school"] == school]
        withheld = [c for c in row if c["withheld"]]
        assert len(withheld) != 1
    for group in ("teacher", "teaching_assistant", "support"):
        column = [c for c in two_way["breakdown"] if c["group"]["staff_group"] == group]
        withheld = [c for c in column if c["withheld"]]
        published_total = kit.cell(by_group, staff_group=group)["withheld"] is None
        assert not (published_total and len(withheld) == 1)
    # Schools hold 12 each; Northfield teachers (7) are published, its assistants (3) are not.
    assert kit.cell(two_way, school=str(NORTHFIELD), staff_group="teacher")["respondents"] == 7
    assert kit.cell(two_way, school=str(NORTHFIELD), staff_group="teaching_assistant")["withheld"]

    # The CSV carries the same numbers and the same suppression.
    resp = await kit.gw.get(
        f"/v1/audits/{audit['id']}/results.csv?by=staff_group", headers=await kit.h("admin")
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    overall = {r["key"]: r for r in rows if r["group"] == "all" and r["level"] == "item"}
    assert set(overall) == set(PRINCIPLES)
    for key in PRINCIPLES:
        json_item = kit.item(results, key)
        row = overall[key]
        for field in ("mean_values", "sd_values", "mean_practice", "sd_practice", "gap"):
            assert float(row[field]) == json_item[field]
        assert int(row["n"]) == json_item["n"] and int(row["gap_rank"]) == json_item["gap_rank"]
    support_rows = [r for r in rows if r["staff_group"] == "support"]
    assert len(support_rows) == 8
    assert all(r["mean_values"] == "" and r["withheld"] for r in support_rows)
    teacher_rows = {r["key"]: r for r in rows if r["staff_group"] == "teacher"}
    for got in teachers["items"]:
        assert float(teacher_rows[got["item_key"]]["gap"]) == got["gap"]

    # The chart: well-formed SVG with both series, axes and a legend.
    resp = await kit.gw.get(
        f"/v1/audits/{audit['id']}/results/chart.svg", headers=await kit.h("admin")
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(resp.content)  # noqa: S314 - our own output, parsed to check it
    assert root.tag == f"{SVG}svg"
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    for series in ("series-values", "series-practice"):
        assert groups[series].find(f"{SVG}polyline") is not None
        assert (
            len(groups[series].findall(f"{SVG}circle") + groups[series].findall(f"{SVG}rect")) == 8
        )
    assert {"x-axis", "y-axis", "legend"} <= set(groups)
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Values" in texts and "Practice" in texts and "Mean score" in texts

    # Suggested needs: the largest gaps, with their evidence.
    resp = await kit.gw.get(
        f"/v1/audits/{audit['id']}/suggested-needs", headers=await kit.h("n-head")
    )
    assert resp.status_code == 200, resp.text
    suggestions = resp.json()["items"]
    gap_keys = [s["item_key"] for s in suggestions if s["kind"] == "gap"]
    assert gap_keys == [k for k in expected_rank if round(gaps[k], 3) >= 0.5][:5]
    first = suggestions[0]
    assert first["n"] == 24 and close(first["gap"], gaps[first["item_key"]])
    assert "n = 24" in first["evidence_note"]
    # Staff may not see suggestions (leaders' tool), and cannot see results while open.
    assert (
        await kit.gw.get(f"/v1/audits/{audit['id']}/suggested-needs", headers=await kit.h("n-t1"))
    ).status_code == 403
    assert (
        await kit.gw.get(f"/v1/audits/{audit['id']}/results", headers=await kit.h("n-t1"))
    ).status_code == 403
