"""Small-cell suppression for audit results, with complementary suppression.

Every figure the API can publish for an audit is a sum over respondents: the whole audit, a
one-way breakdown (by school, staff group, department, career stage or leadership) or a
two-way one. These tables are linked by sums: the whole audit is the sum of any one-way
breakdown, and each one-way cell is the sum of its row in any two-way breakdown. So
suppression is decided once for *all* tables together:

1. primary: a cell with fewer than ``min_group_size`` respondents is withheld;
2. complementary, by lines: while some line (a parent cell and the cells that split it) has
   exactly one withheld member, the smallest published child of that line is withheld too;
3. complementary, exactly: several tables together can still pin a cell down (a withheld
   cell's sum may be a linear combination of published sums), or single out people who are
   no cell at all: an atom under ``min_group_size``, the difference of such an atom and
   another (per answer, counts are whole numbers, so a difference can say what a small group
   answered), or two small atoms under ``min_group_size`` together. For audits of up to
   ``MAX_EXACT_ATOMS`` attribute combinations this is checked with exact linear algebra, and
   a cell of each such combination is withheld (the finest and smallest first) until none
   can be worked out. Larger audits rely on the line rule.

Cells covering exactly the same respondents (say, a department that only one school has and
that school's row for it) are the same cell and share one decision. Because the pattern
covers every table, a figure withheld in one breakdown cannot be recovered from another
breakdown of the same audit. Cells are built from "atoms": the distinct combinations of the
five attributes among the respondents who count for a figure.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

DIMENSIONS = ("school", "staff_group", "department", "career_stage", "leadership")

Atom = tuple[Any, ...]  # one value per dimension, in DIMENSIONS order
CellKey = tuple[tuple[str, ...], tuple[Any, ...]]  # (dimensions, their values)

# Above this many atoms only the line rule runs (the exact check grows with the cube). It was
# 64, which left audits of 65+ combinations (a trust of a few hundred staff) to the line rule
# alone, and that lets single people be worked out (tests/security/test_anonymity_probes.py).
# Measured on one core: 0.3-0.9 s for a pattern of 280-930 sparse atoms, patterns cached.
MAX_EXACT_ATOMS = 1024

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


def _tables() -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    out += [(d,) for d in DIMENSIONS]
    out += list(combinations(DIMENSIONS, 2))
    return out


TABLES = _tables()
_INDEX = {d: i for i, d in enumerate(DIMENSIONS)}


def cell_key(dims: Iterable[str], values: Mapping[str, Any]) -> CellKey:
    """The canonical key of a cell: dimensions in DIMENSIONS order with their values."""
    ordered = tuple(sorted(dims, key=_INDEX.__getitem__))
    return ordered, tuple(values[d] for d in ordered)


@dataclass
class Pattern:
    """Which cells are withheld, and why, for one set of atom counts."""

    min_group_size: int
    counts: dict[CellKey, int] = field(default_factory=dict)
    node_of: dict[CellKey, frozenset[int]] = field(default_factory=dict)
    withheld: dict[frozenset[int], str] = field(default_factory=dict)

    def size(self, key: CellKey) -> int:
        return self.counts.get(key, 0)

    def reason(self, key: CellKey) -> str | None:
        """``"primary"``, ``"complementary"`` or None (published). A cell nobody falls in is
        empty, not withheld."""
        node = self.node_of.get(key)
        if node is None:
            return None
        return self.withheld.get(node)


def _sort_label(key: CellKey) -> str:
    return repr((len(key[0]), key[0], tuple(str(v) for v in key[1])))


def compute(atom_counts: Mapping[Atom, int], min_group_size: int) -> Pattern:
    """The suppression pattern over every table for one figure's atom counts."""
    atoms = [(a, n) for a, n in sorted(atom_counts.items(), key=lambda x: repr(x[0])) if n > 0]
    pattern = Pattern(min_group_size=min_group_size)
    members: dict[CellKey, set[int]] = {}
    for index, (atom, n) in enumerate(atoms):
        for dims in TABLES:
            key: CellKey = (dims, tuple(atom[_INDEX[d]] for d in dims))
            members.setdefault(key, set()).add(index)
            pattern.counts[key] = pattern.counts.get(key, 0) + n
    node_size: dict[frozenset[int], int] = {}
    node_label: dict[frozenset[int], str] = {}
    # How coarse a cell's simplest description is: a whole-school or whole-group figure
    # (1) is worth more than a school-by-group one (2), so complementary picks prefer the
    # finer cells: in the line rule among cells of equal size, and in the exact check first.
    node_depth: dict[frozenset[int], int] = {}
    for key, idx in members.items():
        node = frozenset(idx)
        pattern.node_of[key] = node
        node_size[node] = pattern.counts[key]
        label = _sort_label(key)
        if node not in node_label or label < node_label[node]:
            node_label[node] = label
            node_depth[node] = len(key[0])
    total_key: CellKey = ((), ())
    total_node = pattern.node_of.get(total_key)

    # Lines: a parent cell and the cells one dimension finer that split it.
    lines: set[tuple[frozenset[int], frozenset[frozenset[int]]]] = set()
    children_of: dict[tuple[CellKey, str], set[frozenset[int]]] = {}
    for key in members:
        dims, values = key
        for i, d in enumerate(dims):
            parent: CellKey = (dims[:i] + dims[i + 1 :], values[:i] + values[i + 1 :])
            children_of.setdefault((parent, d), set()).add(pattern.node_of[key])
    for (parent, _), kids in children_of.items():
        # One child covers the same respondents as its parent: nothing to subtract.
        if len(kids) > 1:
            lines.add((pattern.node_of[parent], frozenset(kids)))

    withheld = pattern.withheld
    for node, n in node_size.items():
        if n < min_group_size:
            withheld[node] = PRIMARY
    changed = True
    while changed:
        changed = False
        for parent_node, children in sorted(lines, key=lambda x: node_label[x[0]]):
            line = set(children) | {parent_node}
            unknown = [m for m in line if m in withheld]
            if len(unknown) != 1:
                continue
            candidates = [c for c in children if c not in withheld and c != total_node]
            if not candidates:
                continue
            pick = min(candidates, key=lambda c: (node_size[c], -node_depth[c], node_label[c]))
            withheld[pick] = COMPLEMENTARY
            changed = True
        if not changed and len(atoms) <= MAX_EXACT_ATOMS:
            # Lines catch subtraction within one table; several tables together can still
            # pin a cell down. Check exactly and withhold more until none can be.
            sizes = [n for _, n in atoms]
            for _, used in _recoverable(node_size, withheld, sizes, min_group_size):
                if any(c in withheld for c in used):
                    continue  # already broken by a pick for another leak in this pass
                candidates = [c for c in used if c != total_node]
                if candidates:
                    pick = min(
                        candidates, key=lambda c: (-node_depth[c], node_size[c], node_label[c])
                    )
                    withheld[pick] = COMPLEMENTARY
                    changed = True
    return pattern


_PRIME = (1 << 61) - 1


class _Span:
    """The span of published cells' indicator vectors over the atoms, in echelon form with
    sparse rows, modulo a large prime (a wrong answer would need the prime to divide a
    determinant of a 0/1 matrix this small: it cannot). With ``track``, each row also
    remembers which published cells it combines (columns after the atoms)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: dict[int, dict[int, int]] = {}
        self.order: list[int] = []

    def reduce(self, vector: dict[int, int]) -> dict[int, int]:
        # Row p is zero before column p, so one pass over the pivots in ascending order
        # clears every pivot column.
        vector = dict(vector)
        for lead in self.order:
            factor = vector.get(lead)
            if not factor:
                continue
            for col, value in self.rows[lead].items():
                updated = (vector.get(col, 0) - factor * value) % _PRIME
                if updated:
                    vector[col] = updated
                else:
                    vector.pop(col, None)
        return vector

    def add(self, vector: dict[int, int]) -> None:
        vector = self.reduce(vector)
        atoms = [i for i in vector if i < self.width]
        if not atoms:
            return
        lead = min(atoms)
        inverse = pow(vector[lead], _PRIME - 2, _PRIME)
        self.rows[lead] = {c: (v * inverse) % _PRIME for c, v in vector.items()}
        bisect.insort(self.order, lead)


def _recoverable(
    node_size: Mapping[frozenset[int], int],
    withheld: Mapping[frozenset[int], str],
    sizes: Sequence[int],
    min_group_size: int,
) -> list[tuple[frozenset[int], list[frozenset[int]]]]:
    """What published cells' sums give away, each with the published cells of the
    combination that does it:

    - a withheld cell whose sum is a linear combination of published cells' sums;
    - an atom (``sizes``: respondents per atom) of fewer than ``min_group_size`` likewise. An
      atom is no cell of any table, but tables together can single it out: (school B,
      experienced) less (teachers, experienced) plus (Maths, experienced) can be one support
      assistant in Arts;
    - the difference of a small atom and any other atom. With two-way tables that is
      common: (N, mid career) + (teachers, mid career) - (mid career) is N's mid-career
      teachers less the other school's mid-career non-teachers. Counts per answer are whole
      numbers from 0 to the atom's size, so a difference of -1 at some answer says the one
      person on the right gave it and nobody on the left did;
    - the sum of two small atoms with fewer than ``min_group_size`` respondents together.

    Reducing each atom's vector against the span leaves a remainder over the atoms (and,
    in the tag columns, the published cells used); two atoms' difference is in the span
    exactly when their atom remainders are equal, their sum when the remainders cancel, and
    one atom exactly when it is empty. (Combinations of three or more atoms are not looked
    for.)"""
    atom_count = len(sizes)
    small = {i for i, n in enumerate(sizes) if n < min_group_size}
    published = sorted((n for n in node_size if n not in withheld), key=len)
    span = _Span(atom_count)
    for tag, node in enumerate(published):
        span.add({i: 1 for i in node} | {atom_count + tag: 1})

    def used(rest: Mapping[int, int]) -> list[frozenset[int]]:
        return [published[col - atom_count] for col in rest if col >= atom_count]

    leaks = []
    for node in sorted(withheld, key=lambda n: (len(n), sorted(n))):
        rest = span.reduce(dict.fromkeys(node, 1))
        if all(col >= atom_count for col in rest):
            leaks.append((node, used(rest)))
    by_remainder: dict[frozenset[tuple[int, int]], list[tuple[int, dict[int, int]]]] = {}
    for atom in range(atom_count):
        rest = span.reduce({atom: 1})
        remainder = frozenset((c, v) for c, v in rest.items() if c < atom_count)
        if not remainder and atom in small:
            leaks.append((frozenset([atom]), used(rest)))
        elif remainder:
            by_remainder.setdefault(remainder, []).append((atom, rest))

    def pair(a: int, rest_a: dict[int, int], b: int, rest_b: dict[int, int], sign: int) -> None:
        tags = {c for c in rest_a.keys() | rest_b.keys() if c >= atom_count}
        combo = {c: (rest_a.get(c, 0) + sign * rest_b.get(c, 0)) % _PRIME for c in tags}
        leaks.append((frozenset([a, b]), used({c: v for c, v in combo.items() if v})))

    for remainder, same in by_remainder.items():
        for (a, rest_a), (b, rest_b) in combinations(same, 2):
            if a in small or b in small:
                pair(a, rest_a, b, rest_b, -1)
        # Two small atoms whose sum is in the span: a group under k singled out.
        negated = frozenset((c, -v % _PRIME) for c, v in remainder)
        for a, rest_a in same:
            for b, rest_b in by_remainder.get(negated, []):
                if a < b and a in small and b in small and sizes[a] + sizes[b] < min_group_size:
                    pair(a, rest_a, b, rest_b, 1)
    return leaks


_LRU: OrderedDict[tuple[int, frozenset[tuple[Atom, int]]], Pattern] = OrderedDict()
_LRU_SIZE = 512


class PatternCache:
    """Patterns keyed by their atom counts: items everybody answered share one, and a
    pattern depends on nothing else, so recent ones are kept for the next request."""

    def __init__(self, min_group_size: int) -> None:
        self.min_group_size = min_group_size

    def get(self, atom_counts: Mapping[Atom, int]) -> Pattern:
        key = (self.min_group_size, frozenset((a, n) for a, n in atom_counts.items() if n > 0))
        found = _LRU.get(key)
        if found is None:
            found = _LRU[key] = compute(atom_counts, self.min_group_size)
            while len(_LRU) > _LRU_SIZE:
                _LRU.popitem(last=False)
        else:
            _LRU.move_to_end(key)
        return found


# ---- how a withheld figure is explained ------------------------------------------------

WITHHELD_PRIMARY = "fewer than {k} respondents"
WITHHELD_COMPLEMENTARY = (
    "withheld so that a smaller withheld group cannot be worked out from the totals"
)


def withheld_reason(kind: str | None, k: int) -> str | None:
    if kind is None:
        return None
    return WITHHELD_PRIMARY.format(k=k) if kind == PRIMARY else WITHHELD_COMPLEMENTARY
