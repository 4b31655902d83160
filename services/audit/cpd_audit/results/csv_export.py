"""The results as CSV: the same numbers and the same suppression as the JSON, one row per
item (and per section), overall first and then per breakdown cell; no cell can start a
spreadsheet formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from cpd_audit.results import schemas
from cpd_audit.results.suppression import DIMENSIONS
from cpd_common.csv_safety import safe_cell

COLUMNS = [
    "level",
    *DIMENSIONS,
    "group",
    "group_respondents",
    "key",
    "text",
    "type",
    "scale_max",
    "n",
    "n_scored",
    "mean",
    "sd",
    "mean_values",
    "sd_values",
    "mean_practice",
    "sd_practice",
    "gap",
    "gap_rank",
    "percent_agree",
    "percent_dont_know",
    "distribution",
    "distribution_values",
    "distribution_practice",
    "withheld",
]


def _cell(value: Any) -> str:
    """Every cell goes through :func:`cpd_common.csv_safety.safe_cell`: item texts, section
    titles, school and department names come from people and could start a formula."""
    if isinstance(value, dict):
        value = ";".join(f"{k}={v}" for k, v in value.items())
    return safe_cell(value)


def _item_row(item: schemas.ItemResult) -> dict[str, Any]:
    row = item.model_dump(exclude={"comments"})
    row["key"] = row.pop("item_key")
    row.pop("section", None)
    return row


def _section_row(section: schemas.SectionResult) -> dict[str, Any]:
    row = section.model_dump()
    row["key"] = row.pop("section")
    row["text"] = row.pop("title")
    row["type"] = "section"
    return row


def render(results: schemas.Results) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    overall = {"group": "all", "group_respondents": results.respondents}
    for item in results.items:
        writer.writerow(
            {c: _cell(v) for c, v in {"level": "item", **overall, **_item_row(item)}.items()}
        )
    for section in results.sections:
        writer.writerow(
            {
                c: _cell(v)
                for c, v in {"level": "section", **overall, **_section_row(section)}.items()
            }
        )
    for cell in results.breakdown or []:
        group = {
            **cell.group,
            "group": cell.label,
            "group_respondents": cell.respondents,
        }
        for item in cell.items:
            writer.writerow(
                {c: _cell(v) for c, v in {"level": "item", **group, **_item_row(item)}.items()}
            )
        for section in cell.sections:
            writer.writerow(
                {
                    c: _cell(v)
                    for c, v in {"level": "section", **group, **_section_row(section)}.items()
                }
            )
    return out.getvalue()
