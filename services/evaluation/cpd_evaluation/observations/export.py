"""A measure's observations as CSV, for analysis in a spreadsheet or a statistics package:
pupils by pseudonym only, every cell passed through :func:`cpd_common.csv_safety.safe_cell`."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.csv_safety import safe_cell
from cpd_common.db import where_given
from cpd_evaluation.models.measures import Measure, Observation
from cpd_evaluation.terms.measures import PHASES

COLUMNS = [
    "subject_key",
    "phase",
    "value",
    "date",
    "disadvantaged",
    "send",
    "year_group",
    "group",
]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


async def to_csv(session: AsyncSession, measure: Measure, *, phase: str | None = None) -> str:
    stmt = select(
        Observation.subject_key,
        Observation.phase,
        Observation.value,
        Observation.observed_on,
        Observation.disadvantaged,
        Observation.send,
        Observation.year_group,
        Observation.group,
    ).where(Observation.measure_id == measure.id)
    stmt = where_given(stmt, (Observation.phase, phase))
    order = {p: i for i, p in enumerate(PHASES)}
    # Sorting is stable: by phase, then as recorded.
    rows = sorted(
        (await session.execute(stmt.order_by(Observation.id))).all(),
        key=lambda r: order[r.phase],
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()
