"""Academic years: September to August, named like ``2025-26``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cpd_common.errors import Unprocessable

YEAR_PATTERN = r"^\d{4}-\d{2}$"


@dataclass(frozen=True)
class AcademicYear:
    first: int  # 2025 for 2025-26

    @property
    def name(self) -> str:
        return f"{self.first}-{(self.first + 1) % 100:02d}"

    @property
    def start(self) -> date:
        return date(self.first, 9, 1)

    @property
    def end(self) -> date:
        return date(self.first + 1, 8, 31)

    @classmethod
    def containing(cls, day: date) -> AcademicYear:
        return cls(day.year if day.month >= 9 else day.year - 1)

    @classmethod
    def parse(cls, value: str | None) -> AcademicYear:
        """``2025-26``; the current academic year when ``value`` is None (422 when malformed)."""
        if value is None:
            return cls.containing(datetime.now(UTC).date())
        match = re.match(r"^(\d{4})-(\d{2})$", value)
        # 1990-91 to 9998-99: the year after 9999-00 would end in year 10000 (no such date).
        if (
            not match
            or (int(match[1]) + 1) % 100 != int(match[2])
            or not 1990 <= int(match[1]) < 9999
        ):
            raise Unprocessable(
                "year is an academic year such as 2025-26.",
                errors=[{"loc": "query.year", "msg": "expected YYYY-YY, e.g. 2025-26"}],
            )
        return cls(int(match[1]))
