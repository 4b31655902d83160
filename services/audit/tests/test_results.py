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

from cpd_demo.trust import NORTHFIELD, SOUTHBANK

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
    await kit.transition(audit["id"], "close")

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
    # Staff may not see suggestions (leaders' tool).
    assert (
        await kit.gw.get(f"/v1/audits/{audit['id']}/suggested-needs", headers=await kit.h("n-t1"))
    ).status_code == 403


PULSE = {
    "key": "cpd-pulse",
    "title": "CPD pulse",
    "sections": [{"key": "s1", "title": "Quality"}, {"key": "s2", "title": "Format"}],
    "items": [
        {"key": "q1", "section": "s1", "type": "agreement", "text": "CPD helps my pupils."},
        {
            "key": "q2",
            "section": "s1",
            "type": "agreement",
            "points": 4,
            "comment": True,
            "required": False,
            "text": "My coach challenges me.",
        },
        {
            "key": "q3",
            "section": "s2",
            "type": "single_choice",
            "text": "Best format",
            "choices": [
                {"key": "coaching", "label": "Coaching"},
                {"key": "course", "label": "Course"},
            ],
        },
        {"key": "q4", "section": "s2", "type": "free_text", "text": "Anything else?"},
    ],
}


def pulse_answers(rng: random.Random, index: int, *, coached: bool) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "q1": {"dont_know": True} if index % 6 == 0 else {"score": rng.randint(1, 5)},
        "q3": {"choice": rng.choice(["coaching", "course"])},
    }
    if coached:
        answers["q2"] = {"score": rng.randint(1, 4), "comment": f"note {index}"}
    if index % 5 == 0:
        answers["q4"] = {"text": f"Idea {index:02d}"}
    return answers


async def test_agreement_dont_know_leaders_v_staff_and_comparing_rounds(kit: Any) -> None:
    resp = await kit.gw.post("/v1/instruments", json=PULSE, headers=await kit.h("admin"))
    assert resp.status_code == 201, resp.text
    pulse = resp.json()["id"]
    everyone = kit.people()  # 28 staff of both schools, 4 of them leaders
    rounds = []
    for seed, respondents in ((1, everyone), (2, everyone[:20])):
        audit = await kit.create_audit(instrument_id=pulse, k=3, title=f"Pulse {seed}")
        await kit.transition(audit["id"], "open")
        rng = random.Random(seed)
        submitted = []
        for index, person in enumerate(respondents):
            answers = pulse_answers(rng, index, coached=seed == 1 and index in (3, 4))
            await kit.respond(audit["id"], person.key, answers)
            submitted.append((person, answers))
        await kit.transition(audit["id"], "close")
        rounds.append((audit, submitted))

    (first, submitted), (second, submitted_2) = rounds
    results = await kit.results(first["id"], as_="s-t1")  # closed: staff may read
    assert results["respondents"] == 28 and results["paired"] is False

    def expected(sub: list[tuple[Any, dict[str, Any]]]) -> dict[str, float]:
        q1 = [a["q1"] for _, a in sub]
        scores = [a["score"] for a in q1 if "score" in a]
        return {
            "n": len(q1),
            "n_scored": len(scores),
            "mean": statistics.mean(scores),
            "sd": statistics.stdev(scores),
            "agree": 100 * sum(s >= 4 for s in scores) / len(scores),
            "dont_know": 100 * (len(q1) - len(scores)) / len(q1),
        }

    want = expected(submitted)
    q1 = kit.item(results, "q1")
    assert q1["n"] == want["n"] and q1["n_scored"] == want["n_scored"]
    assert close(q1["mean"], want["mean"]) and close(q1["sd"], want["sd"])
    assert close(q1["percent_agree"], want["agree"], 0.051)
    assert close(q1["percent_dont_know"], want["dont_know"], 0.051)
    scores = [a["q1"].get("score") for _, a in submitted]
    assert q1["distribution"] == {
        **{str(s): scores.count(s) for s in range(1, 6)},
        "dont_know": scores.count(None),
    }
    # Only two answered q2: withheld, with no figures; so the section that pools q1 and q2.
    q2 = kit.item(results, "q2")
    assert q2["n"] is None and q2["mean"] is None and "fewer than 3" in q2["withheld"]
    s1 = next(s for s in results["sections"] if s["section"] == "s1")
    assert s1["mean"] is None and s1["withheld"]
    q3 = kit.item(results, "q3")
    choices = [a["q3"]["choice"] for _, a in submitted]
    assert q3["distribution"] == {
        "coaching": choices.count("coaching"),
        "course": choices.count("course"),
    }
    # Free text and comments only as an alphabetical list without attributes.
    q4 = kit.item(results, "q4")
    assert q4["comments"] == sorted(a["q4"]["text"] for _, a in submitted if "q4" in a)
    # Only two answered q2 (fewer than k = 3): their comments stay unpublished too.
    assert kit.item(results, "q2")["comments"] is None

    # Leaders v other staff.
    split = await kit.results(first["id"], by="leadership")
    leaders = [a for p, a in submitted if p.staff_group == "leader"]
    staff = [a for p, a in submitted if p.staff_group != "leader"]
    assert len(leaders) == 4
    assert kit.cell(split, leadership="leader")["respondents"] == 4
    diff = next(d for d in split["leaders_v_staff"] if d["item_key"] == "q1")
    lead_want, staff_want = (
        expected([(None, a) for a in leaders]),
        expected([(None, a) for a in staff]),
    )
    assert diff["measure"] == "percent_agree"
    assert close(diff["leaders"], lead_want["agree"], 0.051)
    assert close(diff["staff"], staff_want["agree"], 0.051)
    assert close(diff["difference"], round(lead_want["agree"], 1) - round(staff_want["agree"], 1))
    assert next(d for d in split["leaders_v_staff"] if d["item_key"] == "q2")["withheld"]

    # Non-paired chart: bars of percent agree.
    chart = await kit.gw.get(
        f"/v1/audits/{first['id']}/results/chart.svg", headers=await kit.h("n-gov")
    )
    assert chart.status_code == 200
    root = ET.fromstring(chart.content)  # noqa: S314 - our own output, parsed to check it
    bars = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "series-percent_agree")
    assert len(bars.findall(f"{SVG}rect")) == 1  # q1 (q2 withheld)

    # Comparing rounds: later minus earlier, whichever order the ids come in.
    for a, b in ((first["id"], second["id"]), (second["id"], first["id"])):
        resp = await kit.gw.get(f"/v1/audits/{a}/compare/{b}", headers=await kit.h("n-head"))
        assert resp.status_code == 200, resp.text
        comparison = resp.json()
        assert comparison["earlier_audit_id"] == first["id"]
        assert comparison["later_audit_id"] == second["id"]
        change = next(c for c in comparison["items"] if c["item_key"] == "q1")
        want_2 = expected(submitted_2)
        assert close(change["change_mean"], want_2["mean"] - want["mean"], 0.002)
        assert close(
            change["change_percent_agree"],
            round(want_2["agree"], 1) - round(want["agree"], 1),
        )
        q2_change = next(c for c in comparison["items"] if c["item_key"] == "q2")
        assert q2_change["change_mean"] is None and q2_change["withheld"]
    principles = await kit.instrument_id("effective-cpd-principles")
    other = await kit.create_audit(instrument_id=principles)
    resp = await kit.gw.get(
        f"/v1/audits/{first['id']}/compare/{other['id']}", headers=await kit.h("admin")
    )
    assert resp.status_code == 422
    resp = await kit.gw.get(
        f"/v1/audits/{first['id']}/results?by=school,staff_group,department",
        headers=await kit.h("admin"),
    )
    assert resp.status_code == 422
    # CSV and JSON agree on the agreement figures too.
    resp = await kit.gw.get(f"/v1/audits/{first['id']}/results.csv", headers=await kit.h("admin"))
    row = next(r for r in csv.DictReader(io.StringIO(resp.text)) if r["key"] == "q1")
    assert float(row["percent_agree"]) == q1["percent_agree"]
    assert float(row["percent_dont_know"]) == q1["percent_dont_know"]
    assert row["distribution"] == ";".join(f"{k}={v}" for k, v in q1["distribution"].items())


def _in_span(rows: list[list[int]], target: list[int]) -> bool:
    """Is ``target`` a linear combination of ``rows``? Gaussian elimination modulo the prime
    2^31 - 1: a real combination over the rationals is always found; a false alarm would
    need the prime to divide a small 0/1 determinant, and would fail the test, not pass it."""
    p = 2**31 - 1
    basis: list[tuple[int, list[int]]] = []
    for row in rows:
        vec = [x % p for x in row]
        for lead, b in basis:
            if vec[lead]:
                f = vec[lead]
                vec = [(x - f * y) % p for x, y in zip(vec, b, strict=True)]
        lead = next((i for i, x in enumerate(vec) if x), None)
        if lead is not None:
            inv = pow(vec[lead], p - 2, p)
            basis.append((lead, [(x * inv) % p for x in vec]))
    vec = [x % p for x in target]
    for lead, b in basis:
        if vec[lead]:
            f = vec[lead]
            vec = [(x - f * y) % p for x, y in zip(vec, b, strict=True)]
    return not any(vec)


def test_no_withheld_cell_can_be_worked_out_from_published_ones() -> None:
    """Every table the API can publish for an audit (the whole, every one-way and two-way
    breakdown) together: no withheld cell's sum is a linear combination of published cells'
    sums. Random populations, checked with exact rational arithmetic."""
    from cpd_audit.results import suppression

    for seed in range(40):
        rng = random.Random(seed)
        atoms: dict[tuple[str, ...], int] = {}
        for _ in range(rng.randint(8, 40)):
            atom = (
                rng.choice("NS"),
                rng.choice(["teacher", "assistant", "support", "leader"]),
                rng.choice(["KS1", "KS2", "Maths", "Office"]),
                rng.choice(["ect", "mid", "experienced"]),
                rng.choice(["leader", "staff"]),
            )
            atoms[atom] = atoms.get(atom, 0) + 1
        k = rng.choice([3, 5])
        pattern = suppression.compute(atoms, k)
        order = sorted(atoms)

        def vector(key: Any, order: list[Any] = order) -> list[int]:
            dims, values = key
            return [
                int(
                    all(
                        a[suppression.DIMENSIONS.index(d)] == v
                        for d, v in zip(dims, values, strict=True)
                    )
                )
                for a in order
            ]

        published = [vector(c) for c in pattern.counts if pattern.reason(c) is None]
        for key in pattern.counts:
            reason = pattern.reason(key)
            if pattern.size(key) < k:
                assert reason == suppression.PRIMARY
            if reason is not None:
                assert not _in_span(published, vector(key)), (seed, key)
        assert pattern.reason(((), ())) is None or sum(atoms.values()) < k
