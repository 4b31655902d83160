"""CSV injection: cells a spreadsheet would run as formulas get a leading quote; plain numbers
and ordinary text are left alone."""

from __future__ import annotations

import pytest

from cpd_common.csv_safety import safe_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("-0.5", "-0.5"),
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        (-0.25, "-0.25"),
        ("Maths", "Maths"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (7, "7"),
    ],
)
def test_formula_cells_are_neutralised_and_numbers_kept(value: object, expected: str) -> None:
    assert safe_cell(value) == expected
