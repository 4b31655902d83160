"""A QA metrics release as CSV: one row per cell, in the same order and with the same values
as the JSON form; a withheld cell carries its symbol in ``value`` (as official statistics
tables do) and the reason in ``note``."""

from __future__ import annotations

import csv
import io

from cpd_common.csv_safety import safe_cell
from cpd_evaluation.metrics.definitions import definitions
from cpd_evaluation.metrics.schemas import Area, MetricsRelease

COLUMNS = [
    "academic_year",
    "area",
    "school_id",
    "school_name",
    "metric",
    "version",
    "principle",
    "unit",
    "value",
    "note",
]


def _rows(release: MetricsRelease, area: Area) -> list[list[str]]:
    units = {m.id: m.unit for m in definitions().metrics}
    return [
        [
            safe_cell(v)
            for v in (
                release.academic_year,
                area.area,
                area.school_id,
                area.school_name,
                f.metric,
                f.version,
                f.principle,
                units[f.metric],
                f.symbol if f.value is None else f.value,
                f.note,
            )
        ]
        for f in area.figures
    ]


def to_csv(release: MetricsRelease) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for area in (release.trust, *release.schools):
        writer.writerows(_rows(release, area))
    return out.getvalue()
