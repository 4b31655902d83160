"""The attacker's linear algebra for the anonymity probes, written apart from the audit
service's suppression code on purpose (a probe that shares the defender's code shares its
blind spots).

Every figure an audit publishes (a count, a distribution bucket, count x mean, a sum of
squares behind a standard deviation) is a sum over the respondents of a cell. Respondents
with the same five attributes (an "atom") are interchangeable to anyone reading tables, so a
cell is a 0/1 vector over atoms, and an attacker can work out the same figure of any set of
atoms whose vector is a rational linear combination of published cells' vectors. These
helpers decide that exactly, with :class:`fractions.Fraction` (no floating point rank).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from fractions import Fraction

Vector = dict[int, Fraction]


class Span:
    """Published vectors in reduced echelon form (each pivot column is zero in every other
    row), so reducing a vector is one pass over the pivots."""

    def __init__(self) -> None:
        self.rows: dict[int, Vector] = {}

    def reduce(self, vector: Mapping[int, Fraction | int]) -> Vector:
        out: Vector = {c: Fraction(v) for c, v in vector.items() if v}
        for pivot, row in self.rows.items():
            factor = out.get(pivot)
            if factor:
                _axpy(out, -factor, row)
        return out

    def add(self, vector: Mapping[int, Fraction | int]) -> None:
        rest = self.reduce(vector)
        if not rest:
            return
        pivot = min(rest)
        scale = 1 / rest[pivot]
        row = {c: v * scale for c, v in rest.items()}
        for other in self.rows.values():
            factor = other.get(pivot)
            if factor:
                _axpy(other, -factor, row)
        self.rows[pivot] = row

    def contains(self, vector: Mapping[int, Fraction | int]) -> bool:
        return not self.reduce(vector)


def _axpy(target: Vector, factor: Fraction, row: Vector) -> None:
    for col, value in row.items():
        updated = target.get(col, Fraction(0)) + factor * value
        if updated:
            target[col] = updated
        else:
            target.pop(col, None)


def derivable(
    atom_of: Mapping[Hashable, Hashable],
    published: Iterable[Iterable[Hashable]],
    secrets: Iterable[tuple[str, Iterable[Hashable]]],
) -> list[str]:
    """The names of ``secrets`` (sets of respondents) whose sums an attacker can work out
    from the ``published`` sets' sums. ``atom_of`` maps each respondent who counts for this
    figure to their atom; respondents outside it are ignored."""
    index: dict[Hashable, int] = {}
    for atom in atom_of.values():
        index.setdefault(atom, len(index))

    def vector(people: Iterable[Hashable]) -> dict[int, int]:
        out: dict[int, int] = {}
        for person in people:
            if person in atom_of:
                col = index[atom_of[person]]
                out[col] = out.get(col, 0) + 1
        # A cell holds whole atoms: as a 0/1 vector over atoms each member counts once.
        return dict.fromkeys(out, 1)

    span = Span()
    for cell in published:
        span.add(vector(cell))
    found = []
    for name, people in secrets:
        target = vector(people)
        if target and span.contains(target):
            found.append(name)
    return found


def small_atoms(atom_of: Mapping[Hashable, Hashable], k: int) -> list[tuple[str, list[Hashable]]]:
    """Every atom of fewer than ``k`` respondents as a secret: its people are no published
    cell, but if tables together single them out their answers are out."""
    members: dict[Hashable, list[Hashable]] = {}
    for person, atom in atom_of.items():
        members.setdefault(atom, []).append(person)
    return [(f"atom {atom!r} ({len(p)})", p) for atom, p in members.items() if len(p) < k]


def set_against(
    atom_of: Mapping[Hashable, Hashable], published: Iterable[Iterable[Hashable]], k: int
) -> list[str]:
    """Pairs of atoms, one of them under ``k`` people, whose difference the published sums
    give, and pairs of small atoms under ``k`` together whose sum they give. Per answer, a
    count is a whole number from 0 to the atom's size, so a worked-out difference of -1 (or
    the smaller atom's size) says exactly what a small group answered."""
    members: dict[Hashable, int] = {}
    for atom in atom_of.values():
        members[atom] = members.get(atom, 0) + 1
    atoms = list(members)
    index = {a: i for i, a in enumerate(atoms)}
    span = Span()
    for cell in published:
        span.add(dict.fromkeys({index[atom_of[p]] for p in cell if p in atom_of}, 1))
    rest = {a: span.reduce({index[a]: 1}) for a in atoms}
    found = []
    for n, a in enumerate(atoms):
        for b in atoms[n + 1 :]:
            if min(members[a], members[b]) >= k:
                continue
            diff = dict(rest[a])
            _axpy(diff, Fraction(-1), rest[b])
            if not diff:
                found.append(f"{a!r} ({members[a]}) - {b!r} ({members[b]})")
            total = dict(rest[a])
            _axpy(total, Fraction(1), rest[b])
            if not total and members[a] + members[b] < k:
                found.append(f"{a!r} ({members[a]}) + {b!r} ({members[b]})")
    return found
