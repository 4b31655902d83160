"""The figures of audit results: one item's or one section's n, means, standard deviations,
distributions and percentages, built from the SQL rows of :mod:`cpd_audit.results.queries`,
with the reasons a figure is withheld. Items and sections share one shape: distributions are
zero-filled over the scale and a percentage with nothing to count is 0.0, never null."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.results import queries, schemas, suppression
from cpd_common.events import catalogue

DIGITS = 3
FEWER_SCORED = "fewer than {k} respondents gave a score"
SECTION_ITEM_WITHHELD = "withheld because figures of an item in this section are withheld"


def round_(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def item_meta(items: Iterable[instrument_schemas.Item]) -> list[queries.ItemMeta]:
    return [
        queries.ItemMeta(
            key=i.key,
            section=i.section,
            agree_from=instrument_schemas.agree_from(i.points)
            if isinstance(i, instrument_schemas.AgreementItem)
            else 0,
        )
        for i in items
    ]


def measures_of(items: Sequence[instrument_schemas.Item]) -> list[str]:
    types = {i.type for i in items}
    out = []
    if "agreement" in types:
        out.append("score")
    if "paired_scale" in types:
        out += ["values", "practice"]
    if "single_choice" in types:
        out.append("choice")
    return out


def _scale(item: instrument_schemas.Item) -> list[str]:
    if isinstance(item, instrument_schemas.AgreementItem):
        keys = [str(v) for v in range(1, item.points + 1)]
        return keys + (["dont_know"] if item.dont_know else [])
    if isinstance(item, instrument_schemas.PairedScaleItem):
        return [str(v) for v in range(1, item.scale_max + 1)]
    if isinstance(item, instrument_schemas.SingleChoiceItem):
        return [c.key for c in item.choices]
    return []


class Figures:
    """SQL rows of one figure family grouped by (cell values, unit key)."""

    def __init__(self, rows: Iterable[dict[str, Any]], unit: str, dims: Sequence[str]) -> None:
        self.summary: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.dist: dict[tuple[Any, ...], dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for row in rows:
            key = (*(row["group"][d] for d in dims), row[unit])
            if row["kind"] == "summary":
                self.summary[key] = row
            else:
                self.dist[key][row["kind"]][row["value"]] = int(row["n"])


def _distribution(scale: list[str], counts: dict[str, int]) -> dict[str, int]:
    return {value: counts.get(value, 0) for value in scale}


def build_item(
    item: instrument_schemas.Item,
    summary: dict[str, Any] | None,
    dist: dict[str, dict[str, int]] | None,
    *,
    answered_withheld: str | None,
    scored_withheld: str | None,
    comments: list[str] | None = None,
) -> schemas.ItemResult:
    out = schemas.ItemResult(
        item_key=item.key,
        section=item.section,
        type=item.type,
        text=item.text,
        scale_max=_top(item),
    )
    # Comments are decided by the caller (released items of a closed audit only).
    out.comments = comments
    if answered_withheld is not None or summary is None:
        out.withheld = answered_withheld
        return out
    out.n = int(summary["n"])
    if isinstance(item, instrument_schemas.AgreementItem) and item.dont_know:
        out.percent_dont_know = percent(int(summary["n_dont_know"]), out.n)
    if scored_withheld is not None:
        out.withheld = scored_withheld
        return out
    out.n_scored = int(summary["n_scored"])
    dist = dist or {}
    scale = _scale(item)
    if isinstance(item, instrument_schemas.PairedScaleItem):
        out.mean_values = round_(summary["mean_values"])
        out.sd_values = round_(summary["sd_values"])
        out.mean_practice = round_(summary["mean_practice"])
        out.sd_practice = round_(summary["sd_practice"])
        if summary["mean_values"] is not None and summary["mean_practice"] is not None:
            out.gap = round_(summary["mean_values"] - summary["mean_practice"])
        out.distribution_values = _distribution(scale, dist.get("values", {}))
        out.distribution_practice = _distribution(scale, dist.get("practice", {}))
    elif isinstance(item, instrument_schemas.AgreementItem):
        out.mean = round_(summary["mean"])
        out.sd = round_(summary["sd"])
        out.distribution = _distribution(scale, dist.get("score", {}))
        out.percent_agree = percent(int(summary["n_agree"]), out.n_scored)
    elif isinstance(item, instrument_schemas.SingleChoiceItem):
        out.distribution = _distribution(scale, dist.get("choice", {}))
    return out


def _top(item: instrument_schemas.Item) -> int | None:
    if isinstance(item, instrument_schemas.PairedScaleItem):
        return item.scale_max
    if isinstance(item, instrument_schemas.AgreementItem):
        return item.points
    return None


def section_scale(items: Sequence[instrument_schemas.Item]) -> dict[str, list[str]]:
    """The zero-filled keys of a section's distributions: agreement scores (with don't know
    when any item offers it) and paired values and practice scores."""
    agreement = [i for i in items if isinstance(i, instrument_schemas.AgreementItem)]
    paired = [i for i in items if isinstance(i, instrument_schemas.PairedScaleItem)]
    out: dict[str, list[str]] = {}
    if agreement:
        points: int = max(i.points for i in agreement)
        out["score"] = [str(v) for v in range(1, points + 1)]
        if any(i.dont_know for i in agreement):
            out["score"].append("dont_know")
    if paired:
        scale_max: int = max(i.scale_max for i in paired)
        out["values"] = out["practice"] = [str(v) for v in range(1, scale_max + 1)]
    return out


def build_section(
    section: instrument_schemas.Section,
    items: Sequence[instrument_schemas.Item],
    summary: dict[str, Any] | None,
    dist: dict[str, dict[str, int]] | None,
    *,
    answered_withheld: str | None,
    scored_withheld: str | None,
) -> schemas.SectionResult:
    """A section pools its items' answers; its shape is an item's: distributions zero-filled
    over the scale, percentages 0.0 when nothing counts towards them."""
    scales = section_scale(items)
    tops = [top for top in map(_top, items) if top is not None]
    out = schemas.SectionResult(
        section=section.key, title=section.title, scale_max=max(tops) if tops else None
    )
    if answered_withheld is not None or summary is None:
        out.withheld = answered_withheld
        return out
    out.n = int(summary["n"])
    if "dont_know" in scales.get("score", []):
        out.percent_dont_know = percent(int(summary["n_dont_know"]), int(summary["n_answers"]))
    if scored_withheld is not None:
        out.withheld = scored_withheld
        return out
    out.n_scored = int(summary["n_scored"])
    dist = dist or {}
    if "score" in scales:
        out.mean = round_(summary["mean"])
        out.sd = round_(summary["sd"])
        out.percent_agree = percent(int(summary["n_agree"]), int(summary["n_scores"])) or 0.0
        out.distribution = _distribution(scales["score"], dist.get("score", {}))
    if "values" in scales:
        out.mean_values = round_(summary["mean_values"])
        out.sd_values = round_(summary["sd_values"])
        out.mean_practice = round_(summary["mean_practice"])
        out.sd_practice = round_(summary["sd_practice"])
        if summary["mean_values"] is not None and summary["mean_practice"] is not None:
            out.gap = round_(summary["mean_values"] - summary["mean_practice"])
        out.distribution_values = _distribution(scales["values"], dist.get("values", {}))
        out.distribution_practice = _distribution(scales["practice"], dist.get("practice", {}))
    return out


def total_reasons(summary: dict[str, Any] | None, k: int) -> tuple[str | None, str | None]:
    """Suppression of the whole audit's figures (the top of every table: never
    complementary)."""
    answered = int(summary["n"]) if summary else 0
    scored = int(summary["n_scored"]) if summary else 0
    if answered < k:
        return suppression.withheld_reason(suppression.PRIMARY, k), None
    if scored < k:
        return None, FEWER_SCORED.format(k=k)
    return None, None


def items_keys(items: Sequence[instrument_schemas.Item]) -> list[str]:
    return [i.key for i in items]


def complete(summary: dict[str, Any] | None, respondents: int) -> bool:
    return (
        summary is not None
        and int(summary["n"]) == respondents
        and int(summary["n_scored"]) == respondents
    )


def section_guard(
    section: str,
    items: Sequence[schemas.ItemResult],
    answered_withheld: str | None,
    scored_withheld: str | None,
) -> tuple[str | None, str | None]:
    """A section pools its items' answers, so its figures minus the published items' figures
    would give away a withheld item: a section shows only what all its items show."""
    mine = [i for i in items if i.section == section]
    if answered_withheld is None and any(i.n is None for i in mine):
        answered_withheld = SECTION_ITEM_WITHHELD
    if scored_withheld is None and any(i.withheld for i in mine):
        scored_withheld = SECTION_ITEM_WITHHELD
    return answered_withheld, scored_withheld


def item_aggregate(item: schemas.ItemResult) -> catalogue.ItemAggregate:
    """An item's figures for ``audit.audit.closed``: exactly what the results show."""
    return catalogue.ItemAggregate(
        item_key=item.item_key,
        n=item.n,
        mean=item.mean,
        sd=item.sd,
        mean_values=item.mean_values,
        sd_values=item.sd_values,
        mean_practice=item.mean_practice,
        sd_practice=item.sd_practice,
        gap=item.gap,
        percent_agree=item.percent_agree,
        withheld=item.withheld,
    )
