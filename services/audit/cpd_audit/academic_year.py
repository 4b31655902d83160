"""Academic years and months: an English school year runs September to August; plans
name their months ``YYYY-MM``."""

from __future__ import annotations

from datetime import date

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def academic_year(start_year: int) -> str:
    """``2026`` -> ``"2026/27"`` (an English school year runs September to August)."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def parse_month(value: str) -> date:
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def format_month(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def in_academic_year(month: date, start_year: int) -> bool:
    return date(start_year, 9, 1) <= month <= date(start_year + 1, 8, 1)
