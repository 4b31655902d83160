"""Small-cell suppression worked out by hand on small populations: the threshold itself,
complementary suppression by lines (also above the size where the exact check runs), empty
cells, canonical cell keys and the pattern cache. (The property test in test_results.py
checks, on random populations, that nothing withheld can be worked out.)"""

from __future__ import annotations

import random
from typing import Any

import pytest

from cpd_audit.results import suppression
from cpd_audit.results.suppression import COMPLEMENTARY, PRIMARY, PatternCache, cell_key, compute


def atom(school: str, department: str = "Maths") -> tuple[str, ...]:
    return (school, "teacher", department, "mid", "staff")


def school(value: str) -> Any:
    return (("school",), (value,))


TOTAL = ((), ())


def test_cells_of_exactly_min_group_size_are_published() -> None:
    pattern = compute({atom("N"): 5, atom("S"): 5}, 5)
    assert pattern.size(TOTAL) == 10 and pattern.size(school("N")) == 5
    withheld = {k: pattern.reason(k) for k in pattern.counts if pattern.reason(k)}
    assert withheld == {}, "no cell of 5 or more is withheld when nothing needs protecting"


def test_cells_under_min_group_size_are_withheld_and_the_total_stays() -> None:
    pattern = compute({atom("N"): 5, atom("S"): 5}, 6)
    assert pattern.reason(school("N")) == PRIMARY
    assert pattern.reason(school("S")) == PRIMARY
    assert pattern.reason(TOTAL) is None, "the whole audit (10) is published"
    # The staff group covers the same ten people as the total: the same cell, published.
    assert pattern.reason((("staff_group",), ("teacher",))) is None


def test_a_small_cell_takes_its_sibling_with_it() -> None:
    """Southbank's 2 are withheld; Northfield's 6 must be too, or 8 - 6 = 2 gives it away."""
    pattern = compute({atom("N"): 6, atom("S"): 2}, 5)
    assert pattern.reason(school("S")) == PRIMARY
    assert pattern.reason(school("N")) == COMPLEMENTARY
    assert pattern.reason(TOTAL) is None
    two_way = (("school", "department"), ("N", "Maths"))
    assert pattern.reason(two_way) == COMPLEMENTARY, "the same respondents, the same decision"


def test_the_smallest_sibling_is_the_complement() -> None:
    pattern = compute({atom("N"): 9, atom("S"): 7, atom("W"): 2}, 5)
    assert pattern.reason(school("W")) == PRIMARY
    assert pattern.reason(school("S")) == COMPLEMENTARY, "7 is the smallest published sibling"
    assert pattern.reason(school("N")) is None
    assert pattern.reason(TOTAL) is None


def test_lines_protect_audits_too_large_for_the_exact_check(monkeypatch: Any) -> None:
    """Above MAX_EXACT_ATOMS attribute combinations only the line rule runs: one withheld
    department among many still takes the smallest (first by label) other one with it."""
    monkeypatch.setattr(suppression, "MAX_EXACT_ATOMS", 64)
    departments = [f"D{i:02d}" for i in range(suppression.MAX_EXACT_ATOMS + 2)]
    counts = {atom("N", d): 5 for d in departments}
    counts[atom("N", "D00")] = 2
    pattern = compute(counts, 5)
    reasons = {d: pattern.reason((("department",), (d,))) for d in departments}
    assert reasons["D00"] == PRIMARY
    assert reasons["D01"] == COMPLEMENTARY
    assert [d for d, r in reasons.items() if r is None] == departments[2:]
    assert pattern.reason(TOTAL) is None


def test_empty_cells_are_empty_not_withheld() -> None:
    pattern = compute({atom("N"): 7, atom("S"): 0}, 5)
    assert pattern.size(school("S")) == 0
    assert pattern.reason(school("S")) is None
    assert school("S") not in pattern.counts, "an atom nobody falls in makes no cell"
    assert pattern.reason(school("N")) is None and pattern.size(TOTAL) == 7


def test_cell_keys_list_dimensions_in_one_order() -> None:
    values = {"leadership": "staff", "school": "N", "department": "Maths"}
    assert cell_key(["leadership", "school"], values) == (("school", "leadership"), ("N", "staff"))
    assert cell_key([], values) == TOTAL
    assert len(suppression.TABLES) == 1 + 5 + 10
    assert suppression.TABLES[0] == () and ("school", "staff_group") in suppression.TABLES


@pytest.fixture
def empty_cache() -> Any:
    saved = dict(suppression._LRU)
    suppression._LRU.clear()
    yield suppression._LRU
    suppression._LRU.clear()
    suppression._LRU.update(saved)


def test_patterns_are_cached_by_counts_and_group_size(empty_cache: Any) -> None:
    counts = {atom("N"): 6, atom("S"): 2}
    first = PatternCache(5).get(counts)
    assert PatternCache(5).get({**counts, atom("W"): 0}) is first, "zero counts change nothing"
    assert PatternCache(3).get(counts) is not first
    assert PatternCache(3).get(counts).reason(school("S")) == PRIMARY  # 2 < 3
    assert PatternCache(5).get({atom("N"): 6, atom("S"): 3}) is not first
    # One more person in a new cell is another population, however small that cell.
    assert PatternCache(5).get({**counts, atom("W"): 1}) is not first


def test_the_span_tells_recoverable_sums_from_unrecoverable_ones() -> None:
    """The exact check's linear algebra on its own: with published sums a+b and b+c, the
    sum a-c can be worked out and a+c cannot."""
    span = suppression._Span(3)
    span.add({0: 1, 1: 1})
    span.add({1: 1, 2: 1})
    recoverable = span.reduce({0: 1, 2: suppression._PRIME - 1})  # a - c
    assert all(col >= 3 for col in recoverable), recoverable
    hidden = span.reduce({0: 1, 2: 1})  # a + c
    assert any(col < 3 for col in hidden), hidden


def test_the_cache_keeps_the_most_recent_patterns(empty_cache: Any) -> None:
    size = suppression._LRU_SIZE
    cache = PatternCache(5)
    made = {n: cache.get({atom("N"): n}) for n in range(1, size + 1)}
    assert len(empty_cache) == size
    assert cache.get({atom("N"): 1}) is made[1], "still cached; used again, now the newest"
    cache.get({atom("N"): size + 1})
    assert len(empty_cache) == size, "never more than _LRU_SIZE patterns"
    assert cache.get({atom("N"): 1}) is made[1]
    assert cache.get({atom("N"): 3}) is made[3]
    assert cache.get({atom("N"): 2}) is not made[2], "the least recently used one went"


@pytest.mark.parametrize("seed", range(6))
def test_no_line_has_exactly_one_withheld_cell_in_large_audits(seed: int, monkeypatch: Any) -> None:
    """Above MAX_EXACT_ATOMS only the line rule protects: after it, no parent cell and the
    cells that split it by one dimension may have exactly one withheld member (else it is the
    parent minus the others). Random populations of well over 64 attribute combinations."""
    monkeypatch.setattr(suppression, "MAX_EXACT_ATOMS", 64)
    rng = random.Random(seed)
    counts: dict[tuple[str, ...], int] = {}
    for _ in range(260):
        a = (
            rng.choice("NS"),
            rng.choice(["teacher", "assistant", "support", "leader"]),
            rng.choice([f"D{i}" for i in range(12)]),
            rng.choice(["ect", "mid", "experienced"]),
            rng.choice(["leader", "staff"]),
        )
        counts[a] = counts.get(a, 0) + 1
    assert len(counts) > suppression.MAX_EXACT_ATOMS
    pattern = compute(counts, 5)
    lines: dict[tuple[Any, str], set[Any]] = {}
    for key in pattern.counts:
        dims, values = key
        for i, d in enumerate(dims):
            parent = (dims[:i] + dims[i + 1 :], values[:i] + values[i + 1 :])
            lines.setdefault((parent, d), set()).add(pattern.node_of[key])
    checked = 0
    for (parent, _), children in lines.items():
        members = children | {pattern.node_of[parent]}
        if len(children) < 2:
            continue
        withheld = [m for m in members if m in pattern.withheld]
        assert len(withheld) != 1, (seed, parent)
        checked += 1
    assert checked > 50
    for key, n in pattern.counts.items():
        if n < 5:
            assert pattern.reason(key) == PRIMARY, key


def cells(pattern: Any, reason: str | None = None) -> set[Any]:
    """The simplest description (fewest dimensions, then first by name and value) of every
    withheld group of respondents, or of those withheld for ``reason``."""
    chosen: dict[Any, Any] = {}
    for key in pattern.counts:
        node = pattern.node_of[key]
        if node in pattern.withheld and (reason is None or pattern.withheld[node] == reason):
            best = chosen.get(node)
            if best is None or (len(key[0]), key) < (len(best[0]), best):
                chosen[node] = key
    return set(chosen.values())


def person(school: str, department: str, stage: str) -> tuple[str, ...]:
    return (school, "teacher", department, stage, "staff")


def test_the_exact_check_withholds_the_finer_of_two_cells() -> None:
    """Northfield Art early-career (3), Art mid-career (2), Maths early-career (6), Southbank
    English early-career (2). The lines withhold the three small cells, Northfield (11),
    early-career (11) and Art (5), which leaves Northfield early-career (9) and Maths (6)
    published: 9 - 6 = 3 gives Northfield Art early-career away. Either breaks it; the
    two-way Northfield-by-stage cell goes and the whole-department Maths figure stays, though
    it is the smaller of the two."""
    pattern = compute(
        {
            person("N", "Art", "ect"): 3,
            person("N", "Art", "mid"): 2,
            person("N", "Maths", "ect"): 6,
            person("S", "English", "ect"): 2,
        },
        5,
    )
    n_ect = (("school", "career_stage"), ("N", "ect"))
    maths = (("department",), ("Maths",))
    assert pattern.reason(n_ect) == COMPLEMENTARY, "the finer cell is the complement"
    assert pattern.reason(maths) is None, "Maths (6) stays published: withholding it is not needed"
    assert cells(pattern) == {
        (("department", "career_stage"), ("Art", "ect")),
        (("career_stage",), ("mid",)),
        (("department",), ("English",)),
        (("department",), ("Art",)),
        n_ect,
        (("school",), ("N",)),
        (("career_stage",), ("ect",)),
    }
    assert pattern.reason(TOTAL) is None


def test_lines_are_settled_from_the_whole_audit_down() -> None:
    """Northfield English (4) is withheld. The whole audit split by department comes first:
    Art (16) goes with it. Then Northfield split by department: Northfield Art (7) goes too.
    That is all: Southbank (9) and Northfield (11) stay published, and nothing withheld can
    be worked out (published: 9, 11, 20). Settling the finer lines first would withhold
    Southbank and Northfield as well."""
    pattern = compute(
        {
            person("N", "English", "ect"): 4,
            person("N", "Art", "ect"): 7,
            person("S", "Art", "mid"): 9,
        },
        5,
    )
    assert cells(pattern, PRIMARY) == {(("department",), ("English",))}
    assert cells(pattern, COMPLEMENTARY) == {
        (("department",), ("Art",)),
        (("department", "career_stage"), ("Art", "ect")),
    }
    assert pattern.reason(school("S")) is None
    assert pattern.reason(school("N")) is None


def test_equal_siblings_are_told_apart_by_their_simplest_description() -> None:
    """Three schools, each with one department: Westbrook Art (2) is withheld and one of the
    two others (6 each) must go with it. Each is both a school and a department; the first
    by its simplest description is the department English (departments sort before schools,
    English before Maths), so Southbank goes and Northfield stays."""
    pattern = compute(
        {
            person("N", "Maths", "mid"): 6,
            person("S", "English", "mid"): 6,
            person("W", "Art", "mid"): 2,
        },
        5,
    )
    assert pattern.reason(school("W")) == PRIMARY
    assert cells(pattern, COMPLEMENTARY) == {(("department",), ("English",))}
    assert pattern.reason(school("S")) == COMPLEMENTARY
    assert pattern.reason(school("N")) is None


def test_the_span_explains_a_sum_with_the_cells_added_first() -> None:
    """Published a, b and a+b: a+b adds nothing new, so it takes no row, and a is explained
    by its own cell alone (the exact check withholds one of the cells a combination uses)."""
    span = suppression._Span(2)
    span.add({0: 1, 2: 1})  # a, cell 0
    span.add({1: 1, 3: 1})  # b, cell 1
    span.add({0: 1, 1: 1, 4: 1})  # a + b, cell 2
    assert span.order == [0, 1], "only atom columns lead a row"
    a_only = span.reduce({0: 1})
    assert set(a_only) == {2}, ("a is cell 0 and nothing else", a_only)
    b_only = span.reduce({1: 1})
    assert set(b_only) == {3}, ("b is cell 1 and nothing else", b_only)


def test_lines_are_settled_in_the_order_of_their_parents_description() -> None:
    """One school: English early-career (8), English mid-career (8), Maths early-career (1).
    Maths is withheld. Lines go by their parent's simplest description, whole audit first,
    then dimension names before values: the whole audit by department takes English (16),
    then early-career (9) by department takes English early-career (8), and English by career
    stage has two withheld cells already. Mid-career (8) and early-career (9) stay published
    (with the total, 17, they give nothing withheld away)."""
    pattern = compute(
        {
            person("S", "English", "ect"): 8,
            person("S", "English", "mid"): 8,
            person("S", "Maths", "ect"): 1,
        },
        5,
    )
    assert cells(pattern, PRIMARY) == {(("department",), ("Maths",))}
    assert cells(pattern, COMPLEMENTARY) == {
        (("department",), ("English",)),
        (("department", "career_stage"), ("English", "ect")),
    }
    assert pattern.reason((("career_stage",), ("mid",))) is None
    assert pattern.reason((("career_stage",), ("ect",))) is None


def test_equal_sized_complements_take_the_finer_cell_and_no_difference_is_left() -> None:
    """Northfield's 2 in Maths are withheld, so one of its other two departments (7 each)
    must go too. Art is taught only at Northfield, so Northfield's Art cell is also the
    whole-trust Art figure; English is taught in both schools. With sizes tied, the line rule
    withholds the finer school-by-department cell (English). The department figures go too:
    with Art and English published, Northfield less Art less English would be Northfield's
    2 in Maths less Southbank's 8 in English, and per answer a count of 2 there says what both
    of the two answered (differences of a small group and another are withheld since the
    anonymity probes, tests/security/test_anonymity_probes.py)."""
    counts = {
        atom("N", "Maths"): 2,
        atom("N", "English"): 7,
        atom("N", "Art"): 7,
        atom("S", "English"): 8,
        atom("S", "Maths"): 9,
    }
    pattern = compute(counts, 5)
    n_maths = (("school", "department"), ("N", "Maths"))
    n_english = (("school", "department"), ("N", "English"))
    art = (("department",), ("Art",))
    assert pattern.reason(n_maths) == PRIMARY
    assert pattern.reason(n_english) == COMPLEMENTARY
    assert pattern.reason(art) == COMPLEMENTARY
    assert pattern.reason((("department",), ("Maths",))) == COMPLEMENTARY
    assert pattern.reason((("department",), ("English",))) is None
    assert pattern.reason(school("N")) is None and pattern.reason(school("S")) is None
    assert pattern.reason(TOTAL) is None


def published_span(pattern: Any, atoms: list[tuple[str, ...]]) -> Any:
    """The published cells as vectors over ``atoms`` (exact rationals, not the service's
    modular arithmetic)."""
    from fractions import Fraction

    rows: list[dict[int, Fraction]] = []

    def reduce(vector: dict[int, Fraction]) -> dict[int, Fraction]:
        vector = dict(vector)
        for row in rows:
            lead = min(row)
            factor = vector.get(lead)
            if factor:
                for col, value in row.items():
                    vector[col] = vector.get(col, Fraction(0)) - factor * value
                    if not vector[col]:
                        del vector[col]
        return vector

    for key in pattern.counts:
        if pattern.reason(key) is None:
            dims, values = key
            vec = {
                i: Fraction(1)
                for i, a in enumerate(atoms)
                if all(
                    a[suppression.DIMENSIONS.index(d)] == v
                    for d, v in zip(dims, values, strict=True)
                )
            }
            rest = reduce(vec)
            if rest:
                lead = min(rest)
                rows.append({c: v / rest[lead] for c, v in rest.items()})
                rows.sort(key=min)
    return reduce


def staff(school: str, group: str, department: str, stage: str) -> tuple[str, ...]:
    return (school, group, department, stage, "staff")


def test_no_atom_under_k_is_singled_out_by_several_tables() -> None:
    """One support assistant in Arts at Southbank (experienced) is no cell of any table, but
    (S, experienced) - (teachers, experienced) + (Maths, experienced) was exactly them while
    only withheld cells were checked (found by tests/security/test_anonymity_probes.py)."""
    counts = {
        staff("N", "teacher", "Maths", "experienced"): 6,
        staff("N", "teacher", "Arts", "experienced"): 2,
        staff("S", "teacher", "Maths", "experienced"): 2,
        staff("S", "teacher", "English", "experienced"): 6,
        staff("S", "support", "Maths", "experienced"): 6,
        staff("S", "support", "Arts", "experienced"): 1,
        staff("N", "support", "English", "ect"): 6,
        staff("S", "teacher", "Arts", "ect"): 6,
    }
    atoms = sorted(counts)
    reduce = published_span(compute(counts, 5), atoms)
    from fractions import Fraction

    for i, a in enumerate(atoms):
        if counts[a] < 5:
            assert reduce({i: Fraction(1)}), f"{a} ({counts[a]}) can be worked out"


def test_no_small_atom_is_set_against_another() -> None:
    """(N, mid career) + (teachers, mid career) - (mid career) is Northfield's two mid-career
    teachers less Southbank's one mid-career support assistant: a count of -1 at some answer
    would say what that one person answered. No such difference may be published."""
    counts = {
        staff("N", "support", "Arts", "mid"): 1,
        staff("N", "support", "English", "mid"): 1,
        staff("N", "teacher", "Maths", "ect"): 1,
        staff("N", "teacher", "Maths", "mid"): 2,
        staff("N", "teaching_assistant", "Arts", "ect"): 1,
        staff("N", "teaching_assistant", "English", "mid"): 1,
        staff("N", "teaching_assistant", "Maths", "mid"): 1,
        staff("S", "support", "Maths", "mid"): 1,
        staff("S", "teacher", "Arts", "mid"): 2,
        staff("S", "teacher", "English", "mid"): 1,
        staff("S", "teacher", "Maths", "mid"): 1,
        staff("S", "teacher", "Maths", "ect"): 1,
        staff("S", "teaching_assistant", "English", "ect"): 5,
        staff("N", "teaching_assistant", "English", "ect"): 5,
    }
    atoms = sorted(counts)
    pattern = compute(counts, 5)
    reduce = published_span(pattern, atoms)
    from fractions import Fraction

    for i, a in enumerate(atoms):
        for j, b in enumerate(atoms):
            if i < j and min(counts[a], counts[b]) < 5:
                assert reduce({i: Fraction(1), j: Fraction(-1)}), (a, b)
                if counts[a] + counts[b] < 5:
                    assert reduce({i: Fraction(1), j: Fraction(1)}), (a, b)
