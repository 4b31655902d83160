"""Audit results: per item and per section, overall and broken down by one or two
dimensions, with small-cell and complementary suppression; comparisons between rounds; and
suggested needs. The figures come from SQL (:mod:`cpd_audit.results.queries`); this module
decides what may be shown and shapes it."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import service as audits_service
from cpd_audit.audits.errors import ResultsNotPublished
from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.instruments import service as instruments_service
from cpd_audit.models import Audit, Instrument, InstrumentVersion, School
from cpd_audit.results import queries, schemas, suppression
from cpd_common.auth import Principal
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.events import catalogue

DIGITS = 3
FEWER_SCORED = "fewer than {k} respondents gave a score"
SECTION_ITEM_WITHHELD = "withheld because figures of an item in this section are withheld"
MAX_SUGGESTIONS = 5
GAP_THRESHOLD = 0.5
AGREE_THRESHOLD = 60.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def parse_by(values: Sequence[str] | None) -> list[str]:
    """``?by=school&by=staff_group`` or ``?by=school,staff_group``: one or two dimensions."""
    dims: list[str] = []
    for value in values or []:
        dims += [v.strip() for v in value.split(",") if v.strip()]
    errors = [
        {"loc": "query.by", "msg": f"unknown dimension {d!r}"}
        for d in dims
        if d not in suppression.DIMENSIONS
    ]
    if len(set(dims)) != len(dims):
        errors.append({"loc": "query.by", "msg": "a dimension is repeated"})
    if len(dims) > 2:
        errors.append({"loc": "query.by", "msg": "at most two dimensions"})
    if errors:
        raise Unprocessable(
            "`by` takes one or two of: " + ", ".join(suppression.DIMENSIONS) + ".",
            errors=errors,
        )
    return dims


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


def _measures(items: Sequence[instrument_schemas.Item]) -> list[str]:
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


class _Figures:
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
        scale_max=item.scale_max
        if isinstance(item, instrument_schemas.PairedScaleItem)
        else item.points
        if isinstance(item, instrument_schemas.AgreementItem)
        else None,
    )
    # Comments depend only on the whole audit's size (DESIGN.md section 7), not on the cell.
    out.comments = comments
    if answered_withheld is not None or summary is None:
        out.withheld = answered_withheld
        return out
    out.n = int(summary["n"])
    if isinstance(item, instrument_schemas.AgreementItem) and item.dont_know:
        out.percent_dont_know = _percent(int(summary["n_dont_know"]), out.n)
    if scored_withheld is not None:
        out.withheld = scored_withheld
        return out
    out.n_scored = int(summary["n_scored"])
    dist = dist or {}
    scale = _scale(item)
    if isinstance(item, instrument_schemas.PairedScaleItem):
        out.mean_values = _round(summary["mean_values"])
        out.sd_values = _round(summary["sd_values"])
        out.mean_practice = _round(summary["mean_practice"])
        out.sd_practice = _round(summary["sd_practice"])
        if summary["mean_values"] is not None and summary["mean_practice"] is not None:
            out.gap = _round(summary["mean_values"] - summary["mean_practice"])
        out.distribution_values = _distribution(scale, dist.get("values", {}))
        out.distribution_practice = _distribution(scale, dist.get("practice", {}))
    elif isinstance(item, instrument_schemas.AgreementItem):
        out.mean = _round(summary["mean"])
        out.sd = _round(summary["sd"])
        out.distribution = _distribution(scale, dist.get("score", {}))
        out.percent_agree = _percent(int(summary["n_agree"]), out.n_scored)
    elif isinstance(item, instrument_schemas.SingleChoiceItem):
        out.distribution = _distribution(scale, dist.get("choice", {}))
    return out


def build_section(
    section: instrument_schemas.Section,
    summary: dict[str, Any] | None,
    dist: dict[str, dict[str, int]] | None,
    *,
    answered_withheld: str | None,
    scored_withheld: str | None,
) -> schemas.SectionResult:
    out = schemas.SectionResult(section=section.key, title=section.title)
    if answered_withheld is not None or summary is None:
        out.withheld = answered_withheld
        return out
    out.n = int(summary["n"])
    if summary["n_dont_know"]:
        out.percent_dont_know = _percent(int(summary["n_dont_know"]), int(summary["n_answers"]))
    if scored_withheld is not None:
        out.withheld = scored_withheld
        return out
    out.n_scored = int(summary["n_scored"])
    out.mean = _round(summary["mean"])
    out.sd = _round(summary["sd"])
    out.mean_values = _round(summary["mean_values"])
    out.mean_practice = _round(summary["mean_practice"])
    if summary["mean_values"] is not None and summary["mean_practice"] is not None:
        out.gap = _round(summary["mean_values"] - summary["mean_practice"])
    scored_answers = int(summary["n_scores"])
    if scored_answers:
        out.percent_agree = _percent(int(summary["n_agree"]), scored_answers)
        counts = (dist or {}).get("score", {})
        out.distribution = dict(
            sorted(counts.items(), key=lambda kv: (kv[0] == "dont_know", kv[0]))
        )
    return out


def _total_reasons(summary: dict[str, Any] | None, k: int) -> tuple[str | None, str | None]:
    """Suppression of the whole audit's figures (the top of every table: never
    complementary)."""
    answered = int(summary["n"]) if summary else 0
    scored = int(summary["n_scored"]) if summary else 0
    if answered < k:
        return audits_service.withheld_reason(suppression.PRIMARY, k), None
    if scored < k:
        return None, FEWER_SCORED.format(k=k)
    return None, None


def items_keys(items: Sequence[instrument_schemas.Item]) -> list[str]:
    return [i.key for i in items]


def _complete(summary: dict[str, Any] | None, respondents: int) -> bool:
    return (
        summary is not None
        and int(summary["n"]) == respondents
        and int(summary["n_scored"]) == respondents
    )


def _section_guard(
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


def _cell_reasons(
    answered: suppression.Pattern, scored: suppression.Pattern, key: suppression.CellKey, k: int
) -> tuple[str | None, str | None]:
    a = answered.reason(key)
    if a is not None or answered.size(key) == 0:
        return audits_service.withheld_reason(a or suppression.PRIMARY, k), None
    s = scored.reason(key)
    if s is not None or scored.size(key) == 0:
        if s == suppression.COMPLEMENTARY:
            return None, audits_service.WITHHELD_COMPLEMENTARY
        return None, FEWER_SCORED.format(k=k)
    return None, None


async def _school_names(session: AsyncSession, trust_id: uuid.UUID) -> dict[Any, str]:
    rows = await session.execute(select(School.id, School.name).where(School.trust_id == trust_id))
    return {i: n for i, n in rows.all()}


def _label(group: dict[str, Any], schools: dict[Any, str]) -> str:
    parts = []
    for dim, value in group.items():
        if value is None:
            parts.append(f"no {dim.replace('_', ' ')}")
        elif dim == "school":
            parts.append(schools.get(value, str(value)))
        else:
            parts.append(str(value).replace("_", " "))
    return " / ".join(parts)


async def compute_results(
    session: AsyncSession,
    audit: Audit,
    instrument: Instrument,
    version: InstrumentVersion,
    *,
    by: Sequence[str] = (),
) -> schemas.Results:
    items = instruments_service.parse_items(version.items)
    sections = [instrument_schemas.Section.model_validate(s) for s in version.sections]
    meta = item_meta(items)
    k = audit.min_group_size
    measures = _measures(items)
    respondents = await queries.respondent_count(session, audit.id)

    figures = _Figures(
        await queries.item_figures(session, audit.id, meta=meta, measures=measures),
        "item_key",
        (),
    )
    section_figs = _Figures(
        await queries.section_figures(session, audit.id, meta=meta) if sections else [],
        "section",
        (),
    )
    comments: dict[str, list[str]] = defaultdict(list)
    wants_comments = any(
        i.type == "free_text" or (isinstance(i, instrument_schemas.AgreementItem) and i.comment)
        for i in items
    )
    if wants_comments and respondents >= k:
        for key, body in await queries.comments(session, audit.id):
            comments[key].append(body)

    item_results = []
    for item in items:
        summary = figures.summary.get((item.key,))
        answered_w, scored_w = _total_reasons(summary, k)
        has_comments = item.type == "free_text" or getattr(item, "comment", False)
        item_results.append(
            build_item(
                item,
                summary,
                figures.dist.get((item.key,)),
                answered_withheld=answered_w,
                scored_withheld=scored_w,
                comments=comments.get(item.key, []) if has_comments and respondents >= k else None,
            )
        )
    ranked = sorted(
        (i for i in item_results if i.gap is not None),
        key=lambda i: (-(i.gap or 0.0), i.item_key),
    )
    for rank, item_result in enumerate(ranked, start=1):
        item_result.gap_rank = rank
    section_results = []
    for section in sections:
        summary = section_figs.summary.get((section.key,))
        answered_w, scored_w = _section_guard(
            section.key, item_results, *_total_reasons(summary, k)
        )
        section_results.append(
            build_section(
                section,
                summary,
                section_figs.dist.get((section.key,)),
                answered_withheld=answered_w,
                scored_withheld=scored_w,
            )
        )
    results = schemas.Results(
        audit_id=audit.id,
        title=audit.title,
        status=audit.status,
        instrument_id=instrument.id,
        instrument_key=instrument.key,
        instrument_version=version.version,
        paired=audits_service.is_paired(version),
        min_group_size=k,
        respondents=respondents if respondents >= k else None,
        withheld=None if respondents >= k else audits_service.withheld_reason("primary", k),
        items=item_results,
        ranked_by_gap=[i.item_key for i in ranked],
        sections=section_results,
        by=list(by),
    )
    if by:
        results.breakdown = await _breakdown(
            session,
            audit,
            items,
            sections,
            meta=meta,
            measures=measures,
            by=by,
            totals=figures,
            section_totals=section_figs,
            respondent_total=respondents,
        )
        if list(by) == ["leadership"]:
            results.leaders_v_staff = _leaders_v_staff(items, results.breakdown)
    return results


async def _breakdown(
    session: AsyncSession,
    audit: Audit,
    items: Sequence[instrument_schemas.Item],
    sections: Sequence[instrument_schemas.Section],
    *,
    meta: Sequence[queries.ItemMeta],
    measures: Sequence[str],
    by: Sequence[str],
    totals: _Figures,
    section_totals: _Figures,
    respondent_total: int,
) -> list[schemas.CellResult]:
    k = audit.min_group_size
    attr_names = [c.split(".")[1] for c in queries.DIMENSION_COLUMNS.values()]
    units: dict[tuple[str, str], tuple[dict[Any, int], dict[Any, int]]] = defaultdict(
        lambda: ({}, {})
    )
    # Figures everybody answered with a score count exactly the respondents: only the others
    # need their own atoms.
    partial_items = [
        i.key for i in items if not _complete(totals.summary.get((i.key,)), respondent_total)
    ]
    partial_sections = [
        s.key
        for s in sections
        if not _complete(section_totals.summary.get((s.key,)), respondent_total)
    ]
    rows = await queries.atom_counts(
        session, audit.id, meta=meta, item_keys=partial_items, section_keys=partial_sections
    )
    for row in rows:
        atom = tuple(row[a] for a in attr_names)
        answered, scored = units[(row["unit_kind"], row["unit"])]
        answered[atom] = int(row["answered"])
        scored[atom] = int(row["scored"])
    everyone = units[("respondents", "")]
    for unit in [("item", i) for i in items_keys(items) if i not in partial_items] + [
        ("section", s.key) for s in sections if s.key not in partial_sections
    ]:
        units[unit] = everyone
    cache = suppression.PatternCache(k)
    respondents = cache.get(everyone[0])
    # One pattern per figure (items everybody answered share theirs), decided once.
    patterns = {
        unit: (cache.get(units[unit][0]), cache.get(units[unit][1]))
        for unit in [("item", i.key) for i in items] + [("section", s.key) for s in sections]
    }

    figures = _Figures(
        await queries.item_figures(session, audit.id, meta=meta, measures=measures, dims=by),
        "item_key",
        by,
    )
    section_figs = _Figures(
        await queries.section_figures(session, audit.id, meta=meta, dims=by) if sections else [],
        "section",
        by,
    )
    schools = await _school_names(session, audit.trust_id)
    canonical = tuple(sorted(by, key=suppression.DIMENSIONS.index))
    cells = sorted(
        (key for key in respondents.counts if key[0] == canonical),
        key=lambda key: [str(v) for v in key[1]],
    )
    out = []
    for key in cells:
        values = dict(zip(canonical, key[1], strict=True))
        group = {d: values[d] for d in by}
        cell_values = tuple(group[d] for d in by)
        reason = respondents.reason(key)
        cell_withheld = audits_service.withheld_reason(reason, k)
        item_results = []
        for item in items:
            a_w, s_w = _cell_reasons(*patterns[("item", item.key)], key, k)
            if cell_withheld:
                a_w = cell_withheld
            item_results.append(
                build_item(
                    item,
                    figures.summary.get((*cell_values, item.key)),
                    figures.dist.get((*cell_values, item.key)),
                    answered_withheld=a_w,
                    scored_withheld=s_w,
                )
            )
        section_results = []
        for section in sections:
            a_w, s_w = _section_guard(
                section.key,
                item_results,
                *_cell_reasons(*patterns[("section", section.key)], key, k),
            )
            if cell_withheld:
                a_w = cell_withheld
            section_results.append(
                build_section(
                    section,
                    section_figs.summary.get((*cell_values, section.key)),
                    section_figs.dist.get((*cell_values, section.key)),
                    answered_withheld=a_w,
                    scored_withheld=s_w,
                )
            )
        out.append(
            schemas.CellResult(
                group={d: (str(v) if isinstance(v, uuid.UUID) else v) for d, v in group.items()},
                label=_label(group, schools),
                respondents=None if cell_withheld else respondents.size(key),
                withheld=cell_withheld,
                items=item_results,
                sections=section_results,
            )
        )
    return out


def _headline(item: schemas.ItemResult) -> tuple[str, float | None]:
    if item.type == "paired_scale":
        return "gap", item.gap
    if item.type == "agreement":
        return "percent_agree", item.percent_agree
    return "mean", item.mean


def _leaders_v_staff(
    items: Sequence[instrument_schemas.Item], cells: Sequence[schemas.CellResult]
) -> list[schemas.LeadersVStaffItem]:
    by_group = {c.group.get("leadership"): c for c in cells}
    leaders, staff = by_group.get("leader"), by_group.get("staff")
    out = []
    for index, item in enumerate(items):
        if item.type in ("free_text", "single_choice"):
            continue
        lead = leaders.items[index] if leaders else None
        rest = staff.items[index] if staff else None
        measure, lead_value = _headline(lead) if lead else ("gap", None)
        _, staff_value = _headline(rest) if rest else ("gap", None)
        if lead is None or rest is None:
            withheld: str | None = "leaders and other staff did not both respond"
        else:
            withheld = lead.withheld or rest.withheld
        if item.type == "paired_scale":
            measure = "gap"
        elif item.type == "agreement":
            measure = "percent_agree"
        out.append(
            schemas.LeadersVStaffItem(
                item_key=item.key,
                text=item.text,
                leaders=None if withheld else lead_value,
                staff=None if withheld else staff_value,
                difference=None
                if withheld or lead_value is None or staff_value is None
                else _round(lead_value - staff_value),
                measure=measure,
                withheld=withheld,
            )
        )
    return out


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


async def visible_results_audit(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal
) -> tuple[Audit, Instrument, InstrumentVersion]:
    audit = await audits_service.get_audit(session, audit_id, principal=principal)
    if not audits_service.may_see_results(principal, audit):
        raise ResultsNotPublished("Staff and governors see an audit's results once it has closed.")
    instrument, version = await audits_service.instrument_of(session, audit)
    return audit, instrument, version


async def get_results(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal, by: Sequence[str] = ()
) -> schemas.Results:
    audit, instrument, version = await visible_results_audit(session, audit_id, principal=principal)
    return await compute_results(session, audit, instrument, version, by=by)


async def compare(
    session: AsyncSession, audit_id: uuid.UUID, other_id: uuid.UUID, *, principal: Principal
) -> schemas.Comparison:
    first = await visible_results_audit(session, audit_id, principal=principal)
    second = await visible_results_audit(session, other_id, principal=principal)
    if first[1].id != second[1].id:
        raise Unprocessable(
            "Only rounds of the same instrument can be compared.",
            errors=[{"loc": "path.other_id", "msg": "a round of another instrument"}],
        )
    if audit_id == other_id:
        raise Unprocessable(
            "Compare two different rounds.",
            errors=[{"loc": "path.other_id", "msg": "the same audit"}],
        )

    def when(a: Audit) -> Any:
        return (a.opened_at or a.created_at, a.id)

    earlier, later = sorted([first, second], key=lambda t: when(t[0]))
    before = await compute_results(session, *earlier)
    after = await compute_results(session, *later)
    later_items = {i.item_key: i for i in after.items}
    earlier_keys = [i.item_key for i in before.items]
    changes = []
    for old in before.items:
        new = later_items.get(old.item_key)
        if new is None or new.type != old.type:
            continue
        withheld = old.withheld or new.withheld

        def diff(
            field: str,
            o: schemas.ItemResult = old,
            n: schemas.ItemResult = new,
            hidden: str | None = withheld,
        ) -> Any:
            a, b = getattr(o, field), getattr(n, field)
            return None if hidden or a is None or b is None else _round(b - a)

        changes.append(
            schemas.ItemChange(
                item_key=old.item_key,
                text=new.text,
                type=new.type,
                earlier=old,
                later=new,
                change_mean=diff("mean"),
                change_mean_values=diff("mean_values"),
                change_mean_practice=diff("mean_practice"),
                change_gap=diff("gap"),
                change_percent_agree=diff("percent_agree"),
                withheld=withheld,
            )
        )
    compared = {c.item_key for c in changes}
    missing = sorted((set(earlier_keys) | set(later_items)) - compared)
    return schemas.Comparison(
        earlier_audit_id=earlier[0].id,
        later_audit_id=later[0].id,
        instrument_id=first[1].id,
        earlier_respondents=before.respondents,
        later_respondents=after.respondents,
        items=changes,
        missing_items=missing,
    )


def _short(text: str, limit: int = 150) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def suggested_needs(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal
) -> schemas.SuggestedNeeds:
    """The items with the largest published gaps (values above practice by at least
    ``GAP_THRESHOLD``) and the lowest published agreement (under ``AGREE_THRESHOLD`` percent),
    with their figures as evidence. Leaders of schools in scope and trust admins."""
    audit = await audits_service.get_audit(session, audit_id, principal=principal)
    if not audits_service.leads_scope(principal, audit):
        raise Forbidden("Suggested needs are for leaders of the audit's schools.")
    instrument, version = await audits_service.instrument_of(session, audit)
    results = await compute_results(session, audit, instrument, version)
    gaps = sorted(
        (i for i in results.items if i.gap is not None and i.gap >= GAP_THRESHOLD),
        key=lambda i: (-(i.gap or 0.0), i.item_key),
    )[:MAX_SUGGESTIONS]
    low = sorted(
        (
            i
            for i in results.items
            if i.percent_agree is not None and i.percent_agree < AGREE_THRESHOLD
        ),
        key=lambda i: (i.percent_agree or 0.0, i.item_key),
    )[:MAX_SUGGESTIONS]
    out: list[schemas.SuggestedNeed] = []
    for item in gaps:
        out.append(
            schemas.SuggestedNeed(
                item_key=item.item_key,
                section=item.section,
                kind="gap",
                title=_short(f"Close the gap on {item.item_key}: {item.text}", 200),
                description=(
                    f"Staff rate this {item.mean_values:.2f} for fitting our aims and values but "
                    f"{item.mean_practice:.2f} for what actually happens (gap {item.gap:.2f}, "
                    f"{item.n} respondents)."
                ),
                evidence_note=(
                    f"Audit '{audit.title}', item {item.item_key}: values {item.mean_values:.2f}, "
                    f"practice {item.mean_practice:.2f}, gap {item.gap:.2f}, n = {item.n}."
                ),
                n=item.n,
                gap=item.gap,
                mean_values=item.mean_values,
                mean_practice=item.mean_practice,
            )
        )
    for item in low:
        out.append(
            schemas.SuggestedNeed(
                item_key=item.item_key,
                section=item.section,
                kind="low_agreement",
                title=_short(f"Strengthen {item.item_key}: {item.text}", 200),
                description=(
                    f"Only {item.percent_agree:.0f}% of those with a view agree "
                    f"(mean {item.mean:.2f}, {item.n_scored} scored, "
                    f"{item.percent_dont_know or 0:.0f}% don't know)."
                ),
                evidence_note=(
                    f"Audit '{audit.title}', item {item.item_key}: {item.percent_agree:.0f}% "
                    f"agree, mean {item.mean:.2f}, n = {item.n}."
                ),
                n=item.n,
                mean=item.mean,
                percent_agree=item.percent_agree,
            )
        )
    scope = list(audit.school_ids)
    if audit.scope_kind == "trust":
        scope = list(
            await session.scalars(
                select(School.id).where(School.trust_id == audit.trust_id).order_by(School.id)
            )
        )
    return schemas.SuggestedNeeds(audit_id=audit.id, school_ids=scope, items=out)
