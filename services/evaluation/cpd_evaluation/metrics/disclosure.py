"""Disclosure control of the QA metrics (DESIGN.md 7; docs/privacy.md says why each rule).

1. **Threshold.** A figure built from fewer than ``min_people`` people (its *base*) is
   withheld: symbol ``[c]``, rule ``small_group``.
2. **Complementary suppression.** Each metric (and principle) is a row: the trust total and
   its schools. When exactly one school of a row is withheld while the trust total is
   released, the total and the other schools would give it away, so the released school with
   the smallest base is withheld too (rule ``complementary``); when no school is left to
   withhold, the trust total is. Two or more withheld schools only ever show their sum.
3. **Rounding.** What is released is rounded: counts to the nearest ``rounding_base``,
   shares to whole percentages, other figures to the definition's decimal places. Thresholds
   are checked on the true numbers, before rounding.
4. **Not available** (``[x]``): no data for the figure in the period.

Every decision is made on the whole table (trust and every school) before any part of it is
shown, so a pull of one school is as safe as a pull of all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cpd_evaluation.metrics.schemas import Definitions, Figure, MetricDefinition, Symbol

CONFIDENTIAL: Symbol = "[c]"
NOT_AVAILABLE: Symbol = "[x]"


@dataclass
class Cell:
    """A figure before disclosure control: ``area`` is a school id (``None``: the trust),
    ``value`` the exact figure (a fraction for shares), ``base`` the number of people it is
    built from (``None`` when there is no data)."""

    area: uuid.UUID | None
    metric: MetricDefinition
    value: Any
    base: int | None
    principle: str | None = None
    symbol: Symbol | None = None
    rule: str | None = None
    note: str | None = None


def _half_up(value: Any, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rounded(metric: MetricDefinition, value: Any, rounding_base: int) -> int | float:
    """A released value as the definition says: counts to the nearest ``rounding_base``,
    shares (fractions) to whole percentages, others to ``places`` decimals."""
    if metric.kind == "count":
        return int(_half_up(Decimal(str(value)) / rounding_base, 0)) * rounding_base
    if metric.kind == "share":
        return int(_half_up(Decimal(str(value)) * 100, 0))
    return float(_half_up(value, metric.places))


def _primary(cell: Cell, defs: Definitions) -> None:
    # Small groups first: "no data" about a group of people (no one had CPD hours) says
    # something about each of them, so it is withheld like any other small figure.
    if cell.base is not None and cell.base < defs.min_people:
        cell.symbol, cell.rule = CONFIDENTIAL, "small_group"
        cell.note = f"Built from fewer than {defs.min_people} people."
    elif cell.value is None or cell.base is None:
        cell.symbol, cell.rule = NOT_AVAILABLE, "not_available"
        cell.note = cell.note or "No data for this figure in the period."


def _complement(row: list[Cell], school_order: dict[uuid.UUID, int]) -> None:
    trust = next((c for c in row if c.area is None), None)
    schools = [c for c in row if c.area is not None]
    if trust is None or trust.symbol is not None:
        return
    withheld = [c for c in schools if c.symbol == CONFIDENTIAL]
    if len(withheld) != 1:
        return
    released = [c for c in schools if c.symbol is None]
    note = (
        "Withheld so that another withheld figure cannot be worked out from the trust "
        "total and the other schools."
    )

    def size(cell: Cell) -> tuple[int, int]:
        return (cell.base or 0, school_order.get(cell.area, 0) if cell.area else 0)

    pick = min(released, key=size) if released else trust
    pick.symbol, pick.rule, pick.note = CONFIDENTIAL, "complementary", note


def disclose(cells: list[Cell], defs: Definitions, school_order: list[uuid.UUID]) -> list[Cell]:
    """Applies the threshold, complementary suppression and rounding to every cell (in
    place) and returns them."""
    for cell in cells:
        _primary(cell, defs)
    order = {school_id: i for i, school_id in enumerate(school_order)}
    rows: dict[tuple[str, str | None], list[Cell]] = defaultdict(list)
    for cell in cells:
        rows[(cell.metric.id, cell.principle)].append(cell)
    for row in rows.values():
        _complement(row, order)
    for cell in cells:
        if cell.symbol is None:
            cell.value = rounded(cell.metric, cell.value, defs.rounding_base)
        else:
            cell.value = None
    return cells


def figure(cell: Cell) -> Figure:
    return Figure(
        metric=cell.metric.id,
        version=cell.metric.version,
        principle=cell.principle,
        value=cell.value,
        symbol=cell.symbol,
        note=cell.note,
    )
