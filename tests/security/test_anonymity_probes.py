"""Anonymity probes (issue 12, security matrix): an attacker's-eye check, through the public
API only, that no combination of breakdowns, round comparisons, per-response reads or QA
metric releases gives away a withheld cell or one person's answers (DESIGN.md section 7).

The attack is implemented here, apart from the service's suppression code
(``anonymity_algebra``): every published figure of an audit is a sum over the respondents of
its cell, so the probes turn each published cell into a 0/1 vector over attribute
combinations ("atoms") and check with exact rational arithmetic that no withheld cell, no
atom of fewer than ``min_group_size`` people, no difference of such an atom and another and
no sum of two small atoms under ``min_group_size`` lies in the span of the published ones.
That is done per figure family (everyone; those who answered an item; those who scored it),
since each family is suppressed on its own. Then: nobody reads anyone's answers through any
GET; round comparisons show nothing beyond each round; QA pulls around a school growing past
the threshold never pin a withheld count.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date
from typing import Any

import pytest

from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_local.stack import Stack

from .anonymity_algebra import derivable, set_against, small_atoms
from .anonymity_world import (
    DIMENSIONS,
    Audit,
    Respondent,
    every_table,
    make_people,
    run_audit,
)


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """Audits and QA metrics: one demo template of three services for the module (measured
    faster on its own than the full platform's: 91 s against 116 s)."""
    return ("gateway", "audit", "evaluation")


FAMILIES = ("respondents", "p:values", "a:answered", "a:scored")

# Found by a search over random populations of 20 respondents in two schools: with the
# exact check only asking whether a withheld *cell* could be worked out, (S, experienced) and
# friends singled out one teaching assistant (an atom that is no cell of any table).
SINGLED_OUT = [
    (0, "support", "Arts", "mid_career", "staff"),
    (0, "support", "Maths", "mid_career", "staff"),
    (0, "teacher", "Arts", "experienced", "staff"),
    (0, "teacher", "Arts", "mid_career", "staff"),
    (0, "teaching_assistant", "English", "ect", "staff"),
    (0, "teaching_assistant", "Maths", "experienced", "staff"),
    (0, "teaching_assistant", "Maths", "experienced", "staff"),
    (0, "teaching_assistant", "Maths", "mid_career", "staff"),
    (1, "support", "English", "ect", "staff"),
    (1, "support", "Maths", "ect", "staff"),
    (1, "support", "Maths", "mid_career", "leader"),
    (1, "teacher", "Arts", "experienced", "staff"),
    (1, "teacher", "Maths", "ect", "staff"),
    (1, "teacher", "Maths", "experienced", "leader"),
    (1, "teaching_assistant", "Arts", "ect", "staff"),
    (1, "teaching_assistant", "Arts", "ect", "staff"),
    (1, "teaching_assistant", "English", "ect", "staff"),
    (1, "teaching_assistant", "English", "ect", "staff"),
    (1, "teaching_assistant", "Maths", "ect", "staff"),
    (1, "teaching_assistant", "Maths", "ect", "staff"),
]

# Hand-made temptation: a school just above k (6) holding a music department of one, the
# other school's music department of two, one ECT leader; department and career stage
# tables cross the schools.
ONE_IN_A_SCHOOL = [
    *[(0, "teacher", "Maths", "mid_career", "staff")] * 3,
    (0, "teacher", "Maths", "experienced", "staff"),
    (0, "teaching_assistant", "Maths", "ect", "staff"),
    (0, "teacher", "Music", "ect", "leader"),
    *[(1, "teacher", "Maths", "mid_career", "staff")] * 4,
    *[(1, "support", "Maths", "experienced", "staff")] * 2,
    (1, "teaching_assistant", "Maths", "ect", "staff"),
    (1, "teacher", "Music", "ect", "staff"),
    (1, "teacher", "Music", "experienced", "staff"),
]


# Found by the same search once single atoms were safe: (N, mid career) + (teachers, mid
# career) - (mid career) is Northfield's two mid-career Maths teachers less Southbank's one
# mid-career support assistant; per answer, a count of -1 says what that one person gave.
SET_AGAINST = [
    (0, "support", "Arts", "mid_career", "staff"),
    (0, "support", "English", "mid_career", "staff"),
    (0, "teacher", "Maths", "ect", "staff"),
    *[(0, "teacher", "Maths", "mid_career", "staff")] * 2,
    (0, "teaching_assistant", "Arts", "ect", "staff"),
    (0, "teaching_assistant", "Arts", "experienced", "staff"),
    (0, "teaching_assistant", "English", "ect", "leader"),
    (0, "teaching_assistant", "English", "ect", "staff"),
    (0, "teaching_assistant", "English", "mid_career", "staff"),
    (0, "teaching_assistant", "Maths", "ect", "staff"),
    (0, "teaching_assistant", "Maths", "mid_career", "staff"),
    (1, "support", "Arts", "ect", "leader"),
    (1, "support", "Arts", "ect", "staff"),
    (1, "support", "Arts", "experienced", "staff"),
    (1, "support", "Maths", "mid_career", "staff"),
    (1, "teacher", "Arts", "ect", "leader"),
    *[(1, "teacher", "Arts", "mid_career", "staff")] * 2,
    (1, "teacher", "English", "experienced", "staff"),
    (1, "teacher", "English", "mid_career", "staff"),
    (1, "teacher", "Maths", "ect", "staff"),
    (1, "teacher", "Maths", "experienced", "staff"),
    (1, "teacher", "Maths", "mid_career", "staff"),
    *[(1, "teaching_assistant", "Arts", "experienced", "staff")] * 2,
    (1, "teaching_assistant", "English", "ect", "staff"),
]


def large_population() -> list[tuple[Any, ...]]:
    """76 people in three schools over 68 atoms (above the 64 where the service once fell
    back to its line rule alone), k = 3: the smallest of a random search in which the line
    rule let an atom of fewer than three be singled out."""
    import random

    rng = random.Random(282)
    counts: dict[tuple[Any, ...], int] = {}
    size = rng.randint(66, 80)
    while sum(counts.values()) < size:
        atom = (
            rng.choice("NSW"),
            rng.choice(["teacher", "teaching_assistant", "support"]),
            rng.choice(["Maths", "English", "Arts", "Science"]),
            rng.choice(["ect", "mid_career", "experienced"]),
            "leader" if rng.random() < 0.2 else "staff",
        )
        counts[atom] = counts.get(atom, 0) + 1
    return [("NSW".index(a[0]), *a[1:]) for a, n in counts.items() for _ in range(n)]


async def schools(stack: Stack, admin: dict[str, str], wanted: int) -> list[str]:
    """The trust's schools, with made-up ones added until there are ``wanted``."""
    resp = await stack.gateway.get("/v1/schools?limit=100", headers=admin)
    assert resp.status_code == 200, resp.text
    ids = [s["id"] for s in resp.json()["items"]]
    while len(ids) < wanted:
        resp = await stack.gateway.post(
            "/v1/schools",
            json={"name": f"Probe School {len(ids)}", "phase": "primary"},
            headers=admin,
        )
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    await stack.settle()
    return ids


def _matches(r: Respondent, group: dict[str, Any]) -> bool:
    return all(r.attrs[d] == v for d, v in group.items())


def _distribution(members: list[Respondent], item: str, part: str) -> dict[str, int]:
    out: Counter[str] = Counter()
    for r in members:
        answer = r.answers.get(item)
        if answer is not None and answer.get(part) is not None:
            out[str(answer[part])] += 1
    return dict(out)


def read_figures(
    audit: Audit, tables: dict[tuple[str, ...], Any]
) -> dict[str, tuple[list[list[str]], list[tuple[str, list[str]]]]]:
    """Per figure family, the published cells and the withheld ones (as respondent id lists),
    after checking every published number against what the probe knows was answered (so the
    model of what an attacker reads is the service's, not a guess)."""
    published: dict[str, list[list[str]]] = {f: [] for f in FAMILIES}
    withheld: dict[str, list[tuple[str, list[str]]]] = {f: [] for f in FAMILIES}

    def record(family: str, label: str, members: list[Respondent], shown: bool) -> None:
        people = [r.person_id for r in members if r.counts_for(family)]
        if not people:
            return
        (published[family].append(people) if shown else withheld[family].append((label, people)))

    for dims, body in tables.items():
        if dims == ("counts",):
            for part in ("by_school", "by_staff_group", "by_school_and_staff_group"):
                for cell in body[part] or []:
                    group = {
                        d: cell[d if d == "staff_group" else "school_id"]
                        for d in ("school", "staff_group")
                        if (d == "school" and "school" in part)
                        or (d == "staff_group" and part != "by_school")
                    }
                    members = [r for r in audit.respondents if _matches(r, group)]
                    if cell["responses"] is not None:
                        assert cell["responses"] == len(members), (part, cell)
                    record("respondents", f"counts {group}", members, cell["responses"] is not None)
            continue
        cells = [({}, body)] if not dims else [(c["group"], c) for c in body["breakdown"]]
        for group, cell in cells:
            members = [r for r in audit.respondents if _matches(r, group)]
            label = f"{dims} {group}"
            shown = cell["respondents"] is not None
            if shown:
                assert cell["respondents"] == len(members), (label, cell["respondents"])
            record("respondents", label, members, shown)
            items = {i["item_key"]: i for i in cell["items"]}
            p, a = items["p"], items["a"]
            if p["distribution_values"] is not None:
                assert p["n"] == len(members)
                for part in ("values", "practice"):
                    expected = _distribution(members, "p", part)
                    got = {v: n for v, n in p[f"distribution_{part}"].items() if n}
                    assert got == expected, (label, part, got, expected)
            record("p:values", label, members, p["distribution_values"] is not None)
            if a["n"] is not None:
                assert a["n"] == sum(1 for r in members if r.counts_for("a:answered")), label
            record("a:answered", label, members, a["n"] is not None)
            if a["distribution"] is not None:
                got = {v: n for v, n in a["distribution"].items() if n}
                expected = _distribution(members, "a", "score")
                dont_know = sum(1 for r in members if (r.answers.get("a") or {}).get("dont_know"))
                if dont_know:
                    expected["dont_know"] = dont_know
                assert got == expected, (label, got, expected)
            record("a:scored", label, members, a["distribution"] is not None)
        for row in body.get("leaders_v_staff") or []:
            if row["withheld"] is None:
                key = "a:scored" if row["item_key"] == "a" else "p:values"
                for lead in ("leader", "staff"):
                    members = [r for r in audit.respondents if r.attrs["leadership"] == lead]
                    record(key, f"leaders v staff {lead}", members, True)
    return {f: (published[f], withheld[f]) for f in FAMILIES}


def leaks(audit: Audit, tables: dict[tuple[str, ...], Any]) -> dict[str, list[str]]:
    """Per family, what an attacker can work out that should stay withheld: a withheld cell,
    or an atom (one attribute combination) of fewer than k respondents."""
    out: dict[str, list[str]] = {}
    for family, (published, withheld) in read_figures(audit, tables).items():
        atom_of = {r.person_id: r.atom for r in audit.respondents if r.counts_for(family)}
        # A cell withheld as a whole (its respondents are few) can, for one item, hold the
        # very people of a published cell (the one leader skipped the item): that is the
        # published figure again, nothing new.
        shown = {frozenset(cell) for cell in published}
        secrets = [(name, people) for name, people in withheld if frozenset(people) not in shown]
        if family != "respondents":
            # An item's figures of a cell are also withheld when the cell is withheld for
            # everyone's count (or its answers for the scores): such a cell can hold enough
            # people for this figure, and working its figure out tells what the figure's own
            # suppression would have published. What must never come out is a group under k.
            secrets = [(name, people) for name, people in secrets if len(people) < audit.k]
        found = derivable(atom_of, published, [*secrets, *small_atoms(atom_of, audit.k)])
        found += set_against(atom_of, published, audit.k)
        if found:
            out[family] = found
    return out


async def audit_of(demo: Stack, rows: list[tuple[Any, ...]], k: int) -> Audit:
    admin = await demo.headers_for(PEOPLE_BY_KEY["admin"].id)
    ids = await schools(demo, admin, 1 + max(r[0] for r in rows))
    people = await make_people(demo, admin, ids, rows)
    return await run_audit(demo, admin, people, k=k)


@pytest.mark.parametrize(
    ("rows", "k"),
    [(SINGLED_OUT, 5), (SET_AGAINST, 5), (ONE_IN_A_SCHOOL, 5), (large_population(), 3)],
    ids=[
        "atom-singled-out-by-three-tables",
        "one-person-set-against-two",
        "one-in-a-school-just-above-k",
        "68-atoms-k3",
    ],
)
async def test_no_breakdown_combination_works_out_a_withheld_cell_or_a_small_group(
    demo: Stack, rows: list[tuple[Any, ...]], k: int
) -> None:
    audit = await audit_of(demo, rows, k)
    admin = await demo.headers_for(PEOPLE_BY_KEY["admin"].id)
    tables = await every_table(demo, admin, audit.id)
    assert tables[("leadership",)]["leaders_v_staff"] is not None
    figures = read_figures(audit, tables)
    # The probe has something to attack: cells withheld, cells published, in every family.
    for family in ("respondents", "a:scored"):
        published, withheld = figures[family]
        assert published and withheld, family
    assert leaks(audit, tables) == {}
    assert len({r.atom for r in audit.respondents}) == len(set(map(tuple, rows)))
    assert all(len(r.atom) == len(DIMENSIONS) for r in audit.respondents)


# ---- per-response reads -----------------------------------------------------------------


def _readable_paths(doc: dict[str, Any], audit_id: str, other_id: str) -> list[str]:
    """Every GET of the merged document whose path needs no id or only an audit's."""
    out = []
    for path, ops in doc["paths"].items():
        if "get" not in ops:
            continue
        filled = path.replace("{audit_id}", audit_id).replace("{other_id}", other_id)
        if "{" not in filled:
            out.append(filled)
    return out


async def test_nobody_reads_anyones_answers_through_any_get(demo: Stack) -> None:
    """Three people answer with words nobody else could write; the audit closes under its
    minimum group size, so nothing is released. Every GET of the merged OpenAPI document that
    needs no id, or only this audit's, read by the respondent, a colleague, the school's head
    and a trust admin, carries none of those words, and nobody (the respondent included) gets
    an answer back: the receipt and ``/responses/me`` say whether, never what."""
    admin = await demo.headers_for(PEOPLE_BY_KEY["admin"].id)
    ids = await schools(demo, admin, 1)
    people = await make_people(demo, admin, ids, [(0, "teacher", "Maths", "ect", "staff")] * 3)
    secrets = [f"only-I-would-write-{uuid.uuid4().hex}" for _ in people]

    def answers(n: int) -> dict[str, Any]:
        return {"p": {"values": 5, "practice": 1}, "a": {"score": 2, "comment": secrets[n]}}

    first = await run_audit(demo, admin, people, k=5, answers=answers, key="probe-reads")
    other = await run_audit(demo, admin, people[:1], k=5, key="probe-reads")
    doc = (await demo.gateway.get("/openapi.json")).json()
    paths = _readable_paths(doc, first.id, other.id)
    assert len(paths) > 20, paths
    viewers = {
        "respondent": await demo.headers_for(people[0][0]),
        "colleague": await demo.headers_for(people[1][0]),
        "head": await demo.headers_for(PEOPLE_BY_KEY["n-head"].id),
        "admin": admin,
    }
    read = 0
    for who, headers in viewers.items():
        for path in paths:
            resp = await demo.gateway.get(path, headers=headers)
            read += 1
            for secret in secrets:
                assert secret not in resp.text, (who, path)
    mine = await demo.gateway.get(
        f"/v1/audits/{first.id}/responses/me", headers=viewers["respondent"]
    )
    assert mine.status_code == 200 and mine.json()["responded"] is True
    assert "answers" not in mine.json() and "comment" not in mine.text
    assert read == len(paths) * len(viewers)
    print(f"per-response reads: {read} requests on {len(paths)} paths")


# ---- round comparisons ------------------------------------------------------------------


def _whole_audit(body: dict[str, Any]) -> dict[str, Any]:
    return {i["item_key"]: {k: v for k, v in i.items() if k != "comments"} for i in body["items"]}


async def test_comparing_rounds_releases_nothing_beyond_each_round(demo: Stack) -> None:
    """Each round's answers are fresh, so two rounds' figures are sums of different
    unknowns: combining them works out nothing about one round that its own published
    figures do not. What the comparison must not do is show more than each round shows on
    its own. Round 1: four people (under k = 5, nothing released); round 2: the same four
    with the same answers plus one (five, released); round 3: six, the same five plus one.
    The comparisons carry exactly each round's own whole-audit figures, no change where
    either round is withheld, and no breakdown; so the newcomer of round 2 is never round 2
    minus round 1, and round 3 minus round 2 is a difference of two released figures over
    groups of five or more, as any two audits are."""
    admin = await demo.headers_for(PEOPLE_BY_KEY["admin"].id)
    ids = await schools(demo, admin, 1)
    people = await make_people(
        demo, admin, ids, [(0, "teacher", "Maths", "mid_career", "staff")] * 6
    )
    rounds = [
        await run_audit(demo, admin, people[:size], k=5, key="probe-rounds", title=f"Round {n}")
        for n, size in enumerate((4, 5, 6), start=1)
    ]
    own = []
    for audit in rounds:
        resp = await demo.gateway.get(f"/v1/audits/{audit.id}/results", headers=admin)
        own.append(resp.json())
    assert own[0]["respondents"] is None or all(i["withheld"] for i in own[0]["items"])
    for earlier, later in ((0, 1), (1, 2), (0, 2)):
        url = f"/v1/audits/{rounds[later].id}/compare/{rounds[earlier].id}"
        resp = await demo.gateway.get(url, headers=admin)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["earlier_respondents"] == own[earlier]["respondents"]
        assert body["later_respondents"] == own[later]["respondents"]
        before, after = _whole_audit(own[earlier]), _whole_audit(own[later])
        for change in body["items"]:
            key = change["item_key"]
            assert {k: v for k, v in change["earlier"].items() if k != "comments"} == before[key]
            assert {k: v for k, v in change["later"].items() if k != "comments"} == after[key]
            if before[key]["withheld"] or after[key]["withheld"]:
                assert all(v is None for k, v in change.items() if k.startswith("change_")), change
        assert "breakdown" not in body


# ---- QA-metric releases -----------------------------------------------------------------


async def _school_with_hours(
    stack: Stack, admin: dict[str, str], school: str, size: int, held_on: str
) -> None:
    course = await stack.gateway.post(
        "/v1/activities",
        json={
            "title": f"Probe course {uuid.uuid4().hex[:6]}",
            "kind": "course",
            "school_ids": [school],
            "sessions": [{"title": "Day", "held_on": held_on, "duration_minutes": 360}],
        },
        headers=admin,
    )
    assert course.status_code == 201, course.text
    people = []
    for _ in range(size):
        person = await stack.gateway.post(
            "/v1/people",
            json={
                "name": f"Probe Teacher {uuid.uuid4().hex[:6]}",
                "school_ids": [school],
                "fte": 1.0,
            },
            headers=admin,
        )
        assert person.status_code == 201, person.text
        people.append(person.json()["id"])
    await stack.settle()
    for n, person_id in enumerate(people):
        added = await stack.gateway.post(
            f"/v1/activities/{course.json()['id']}/participants",
            json={"person_id": person_id, "hours": str(6 + n)},
            headers=admin,
        )
        assert added.status_code == 201, added.text


async def test_qa_pulls_around_a_small_school_growing_never_pin_its_withheld_counts(
    demo: Stack,
) -> None:
    """A third school of 8 staff with CPD hours is withheld (under 10), and so is the smaller
    other school with it. The QA body pulls, two people join the small school (now 10,
    released) and it pulls again. Per pull, no row with a released trust total has exactly
    one withheld school; across both pulls, an attacker who knows who joined and that
    nothing else changed, turning every rounded count back into the exact counts it allows,
    is left with at least two possible first-pull counts for each school withheld then."""
    from .anonymity_metrics import (
        COUNT_METRICS,
        academic_year,
        candidates_across_pulls,
        lone_withheld_rows,
        pull,
        qa_headers,
    )

    admin = await demo.headers_for(PEOPLE_BY_KEY["admin"].id)
    year, first = academic_year(date.today())
    held_on = date(first, 10, 1).isoformat()
    resp = await demo.gateway.post(
        "/v1/schools", json={"name": "Westgate Probe", "phase": "primary"}, headers=admin
    )
    assert resp.status_code == 201, resp.text
    westgate = resp.json()["id"]
    await demo.settle()
    await _school_with_hours(demo, admin, westgate, 8, held_on)
    qa = await qa_headers(demo)
    before = await pull(demo, qa, year)
    await _school_with_hours(demo, admin, westgate, 2, held_on)
    after = await pull(demo, qa, year)

    assert lone_withheld_rows(before) == [] and lone_withheld_rows(after) == []
    shown = {s["school_id"]: s for s in before["schools"]}
    assert westgate in shown
    for metric in COUNT_METRICS:
        withheld_then = [
            school
            for school, area in shown.items()
            if any(f["metric"] == metric and f["value"] is None for f in area["figures"])
        ]
        assert westgate in withheld_then, metric
        for school in withheld_then:
            options = candidates_across_pulls(before, after, school, {westgate: 2}, metric)
            assert len(options) >= 2, (metric, school, options)
