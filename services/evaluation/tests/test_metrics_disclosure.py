"""Disclosure control of the QA metrics on hand-made tables: the cases a trust's data rarely
shows at once (one school with data and the rest with none, ties, rounding at the edges)."""

from __future__ import annotations

import uuid

from cpd_evaluation.metrics.definitions import definitions
from cpd_evaluation.metrics.disclosure import Cell, disclose, rounded

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))
ORDER = [A, B, C]


def metric(metric_id: str):  # type: ignore[no-untyped-def]
    return next(m for m in definitions().metrics if m.id == metric_id)


def row(metric_id: str, trust: tuple[object, int | None], **schools: tuple[object, int | None]):  # type: ignore[no-untyped-def]
    m = metric(metric_id)
    ids = {"a": A, "b": B, "c": C}
    return [Cell(None, m, *trust)] + [Cell(ids[k], m, *v) for k, v in schools.items()]


def by_area(cells: list[Cell]) -> dict[object, Cell]:
    return {c.area: c for c in cells}


def test_counts_round_half_up_to_fives_and_shares_to_whole_percent() -> None:
    staff, share = metric("staff"), metric("meeting_entitlement_share")
    assert [rounded(staff, n, 5) for n in (10, 12, 13, 17, 18, 22)] == [10, 10, 15, 15, 20, 20]
    assert rounded(share, 0.125, 5) == 13 and rounded(share, 1 / 3, 5) == 33
    assert rounded(metric("hours_per_fte"), 6.65, 5) == 6.7


def test_one_withheld_school_takes_the_smallest_released_one_with_it() -> None:
    cells = by_area(
        disclose(row("staff", (40, 40), a=(15, 15), b=(17, 17), c=(8, 8)), definitions(), ORDER)
    )
    assert (cells[C].symbol, cells[C].rule) == ("[c]", "small_group")
    assert (cells[A].symbol, cells[A].rule) == ("[c]", "complementary")
    assert cells[B].value == 15 and cells[None].value == 40
    # Equal bases: the first school in name order goes.
    cells = by_area(
        disclose(row("staff", (40, 40), a=(16, 16), b=(16, 16), c=(8, 8)), definitions(), ORDER)
    )
    assert cells[A].rule == "complementary" and cells[B].symbol is None


def test_no_school_left_to_withhold_means_the_trust_total_goes() -> None:
    # A trust-wide round and one school's own small round; the other schools have none.
    cells = by_area(
        disclose(
            row(
                "values_practice_gap",
                (1.2, 25),
                a=(0.9, 6),
                b=(None, None),
                c=(None, None),
            ),
            definitions(),
            ORDER,
        )
    )
    assert cells[A].rule == "small_group" and cells[B].symbol == cells[C].symbol == "[x]"
    assert (cells[None].symbol, cells[None].rule) == ("[c]", "complementary")
    assert cells[None].value is None


def test_two_withheld_schools_need_nothing_more_and_no_data_about_few_is_confidential() -> None:
    cells = by_area(
        disclose(
            row("sustained_share", (0.5, 30), a=(0.4, 20), b=(None, 0), c=(0.2, 4)),
            definitions(),
            ORDER,
        )
    )
    # Nobody at B had CPD hours: "no data" about them is withheld, not shown as [x].
    assert (cells[B].symbol, cells[B].rule) == ("[c]", "small_group")
    assert cells[C].rule == "small_group" and cells[A].value == 40 and cells[None].value == 50
