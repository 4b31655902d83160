"""QA-metric releases for the anonymity probes: a small school near the threshold, pulls by
the demo's QA client, and the attacker's arithmetic across pulls (trust total less the
released schools, rounded figures turned back into the ranges they allow)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from cpd_demo.trust import DEMO_CREDENTIALS
from cpd_local.stack import Stack

COUNT_METRICS = ("staff", "staff_covered")


def academic_year(today: date) -> tuple[str, int]:
    """The academic year's name (2026-27) and its first calendar year."""
    first = today.year if today.month >= 9 else today.year - 1
    return f"{first}-{str(first + 1)[2:]}", first


async def qa_headers(stack: Stack) -> dict[str, str]:
    client_id, secret = DEMO_CREDENTIALS["QA API client"]
    return {"Authorization": f"Bearer {await stack.client_token(client_id, secret)}"}


async def pull(stack: Stack, qa: dict[str, str], year: str) -> dict[str, Any]:
    resp = await stack.gateway.get(f"/v1/metrics?academic_year={year}", headers=qa)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def figures(release: dict[str, Any]) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    """Every figure by (area: 'trust' or a school id, metric, principle)."""
    out = {}
    for area in (release["trust"], *release["schools"]):
        key = "trust" if area["area"] == "trust" else area["school_id"]
        for f in area["figures"]:
            out[(key, f["metric"], f["principle"])] = f
    return out


def rounded_range(value: int) -> range:
    """The exact counts a count rounded to the nearest 5 (half up) can stand for."""
    return range(max(0, value - 2), value + 3)


def lone_withheld_rows(release: dict[str, Any]) -> list[Any]:
    """Rows (metric, principle) whose trust total is released with exactly one school
    withheld: the total less the other schools would be that school."""
    got = figures(release)
    schools = [s["school_id"] for s in release["schools"]]
    rows = {(m, p) for (_, m, p) in got}
    out = []
    for metric, principle in sorted(rows, key=str):
        total = got.get(("trust", metric, principle))
        if total is None or total["value"] is None:
            continue
        withheld = [s for s in schools if got[(s, metric, principle)]["value"] is None]
        if len(withheld) == 1:
            out.append((metric, principle, withheld))
    return out


def candidates_across_pulls(
    before: dict[str, Any], after: dict[str, Any], school: str, joined: dict[str, int], metric: str
) -> set[int]:
    """Every exact count of ``school`` at the first pull consistent with every released
    count of both pulls, for an attacker who knows how many people joined each school in
    between (``joined``) and that nothing else changed: each school's count is unknown
    within its rounded range (or anything up to the total when withheld), the totals must
    round right, and a school withheld by the threshold (not as a complement) had fewer
    than 10. Schools' counts may overlap (someone in two schools counts once in the trust
    total), by an amount the attacker does not know."""
    first, second = figures(before), figures(after)
    schools = [s["school_id"] for s in before["schools"]]

    def allowed(s: str) -> list[int]:
        known = [
            rounded_range(f["value"])
            for f in (first[(s, metric, None)], second[(s, metric, None)])
            if f["value"] is not None
        ]
        moved = joined.get(s, 0)
        if moved and second[(s, metric, None)]["value"] is not None:
            known[-1] = range(known[-1].start - moved, known[-1].stop - moved)
        top = first[("trust", metric, None)]["value"] or 10_000
        values = set(range(0, top + 3))
        for r in known:
            values &= set(r)
        if "fewer than" in (first[(s, metric, None)].get("note") or ""):
            values = {v for v in values if v < 10}  # withheld by the threshold itself
        return sorted(values)

    options = {s: allowed(s) for s in schools}
    found = set()
    for combo in itertools.product(*(options[s] for s in schools)):
        counts = dict(zip(schools, combo, strict=True))
        total1 = sum(counts.values())
        total2 = total1 + sum(joined.values())
        # People in two schools count once in the trust: an unknown overlap, the same in
        # both pulls (the joiners are in one school).
        for overlap in range(0, total1 + 1):
            if all(
                pulled[("trust", metric, None)]["value"] is None
                or total - overlap in rounded_range(pulled[("trust", metric, None)]["value"])
                for pulled, total in ((first, total1), (second, total2))
            ):
                found.add(counts[school])
                break
    return found
