"""Small-cell suppression for audit results, with complementary suppression.

Every figure the API can publish for an audit is a sum over respondents: the whole audit, a
one-way breakdown (by school, staff group, department, career stage or leadership) or a
two-way one. These tables are linked by sums: the whole audit is the sum of any one-way
breakdown, and each one-way cell is the sum of its row in any two-way breakdown. A withheld
cell could be worked out by subtraction from a line in which it is the only unknown, so
suppression is decided once for *all* tables together:

1. primary: a cell with fewer than ``min_group_size`` respondents is withheld;
2. complementary: while some line (a parent cell and its children) has exactly one withheld
   member, the smallest published child of that line is withheld too.

Cells covering exactly the same respondents (say, a department that only one school has and
that school's row for it) are the same cell and share one decision. Because the pattern
covers every table, a figure withheld in one breakdown stays withheld, or unrecoverable, in
every other breakdown of the same audit. Cells are built from "atoms": the distinct
combinations of the five attributes among the respondents who count for a figure.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

DIMENSIONS = ("school", "staff_group", "department", "career_stage", "leadership")

Atom = tuple[Any, ...]  # one value per dimension, in DIMENSIONS order
CellKey = tuple[tuple[str, ...], tuple[Any, ...]]  # (dimensions, their values)

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
    for key, idx in members.items():
        node = frozenset(idx)
        pattern.node_of[key] = node
        node_size[node] = pattern.counts[key]
        label = _sort_label(key)
        if node not in node_label or label < node_label[node]:
            node_label[node] = label
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
            pick = min(candidates, key=lambda c: (node_size[c], node_label[c]))
            withheld[pick] = COMPLEMENTARY
            changed = True
    return pattern


class PatternCache:
    """Patterns keyed by their atom counts: items everybody answered share one."""

    def __init__(self, min_group_size: int) -> None:
        self.min_group_size = min_group_size
        self._cache: dict[Hashable, Pattern] = {}

    def get(self, atom_counts: Mapping[Atom, int]) -> Pattern:
        key = frozenset((a, n) for a, n in atom_counts.items() if n > 0)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = compute(atom_counts, self.min_group_size)
        return found
