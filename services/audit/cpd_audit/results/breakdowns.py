"""Breakdowns of audit results by one or two dimensions (school, staff group, department,
career stage, leadership), suppressed as one pattern over every table of the audit; the
leaders v other staff comparison; and which cells a viewer may see: in an audit across
schools, anyone but a trust admin sees only their own schools' cells (and the whole audit)."""

from __future__ import annotations

import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.models import Audit, School
from cpd_audit.results import breakdown_store, figures, queries, schemas, suppression
from cpd_audit.results.errors import OwnSchoolsOnly
from cpd_common.auth import Principal
from cpd_common.errors import Unprocessable


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


def viewer_dims(
    audit: Audit, principal: Principal, by: Sequence[str]
) -> tuple[list[str], frozenset[uuid.UUID] | None]:
    """The breakdown a viewer gets, and the schools whose cells they may see (None: all).

    Trust admins, and anyone whose schools cover the audit's whole scope, see every cell. In
    an audit across other schools too, everyone else sees the whole audit and their own
    schools' cells only: a breakdown always splits by school first, so ``?by=staff_group``
    gives their schools' staff groups (a trust-wide staff group cell, less their school's
    cell, would be the other schools' cell)."""
    dims = list(by)
    if principal.is_trust_admin or (
        audit.scope_kind != "trust" and set(audit.school_ids) <= principal.school_ids
    ):
        return dims, None
    if not dims or "school" in dims:
        return dims, frozenset(principal.school_ids)
    if len(dims) == 2:
        raise OwnSchoolsOnly(
            "In an audit across schools you see your own schools' cells: break it down by "
            "school and at most one other dimension (e.g. ?by=staff_group)."
        )
    return ["school", *dims], frozenset(principal.school_ids)


def _cell_reasons(
    answered: suppression.Pattern, scored: suppression.Pattern, key: suppression.CellKey, k: int
) -> tuple[str | None, str | None]:
    a = answered.reason(key)
    if a is not None or answered.size(key) == 0:
        return suppression.withheld_reason(a or suppression.PRIMARY, k), None
    s = scored.reason(key)
    if s is not None or scored.size(key) == 0:
        if s == suppression.COMPLEMENTARY:
            return None, suppression.WITHHELD_COMPLEMENTARY
        return None, figures.FEWER_SCORED.format(k=k)
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


@dataclass
class _Decided:
    """The suppression patterns of one audit's figures: one for its respondents, and one
    pair (answered, scored) per item and section."""

    respondents: suppression.Pattern
    patterns: dict[tuple[str, str], tuple[suppression.Pattern, suppression.Pattern]]
    _cells: dict[tuple[str, ...], list[suppression.CellKey]] = field(default_factory=dict)

    def cells(self, canonical: tuple[str, ...]) -> list[suppression.CellKey]:
        """The non-empty cells of one table, in the order they are listed."""
        found = self._cells.get(canonical)
        if found is None:
            found = self._cells[canonical] = sorted(
                (key for key in self.respondents.counts if key[0] == canonical),
                key=lambda key: [str(v) for v in key[1]],
            )
        return found


# Patterns decided from a closed audit's stored atom counts, by audit, the stored row's time,
# k and the figures: those inputs never change once stored, so (like ``PatternCache``, which
# keys patterns by the counts themselves) the decision is reused, not the answer: every read
# still applies it to each cell and figure.
_DECIDED: OrderedDict[tuple[Any, ...], _Decided] = OrderedDict()
_DECIDED_SIZE = 32


async def _decide(
    session: AsyncSession,
    audit: Audit,
    items: Sequence[instrument_schemas.Item],
    sections: Sequence[instrument_schemas.Section],
    meta: Sequence[queries.ItemMeta],
    partial_items: Sequence[str],
    partial_sections: Sequence[str],
    k: int,
) -> _Decided:
    """Suppression decided over every table of the audit, from its atom counts: stored at
    close (before suppression) for a closed audit, else counted from its answers."""
    stamp = await breakdown_store.atoms_stamp(session, audit)
    key = (
        audit.id,
        stamp,
        k,
        tuple(i.key for i in items),
        tuple(s.key for s in sections),
        tuple(partial_items),
        tuple(partial_sections),
    )
    if stamp is not None:
        found = _DECIDED.get(key)
        if found is not None:
            _DECIDED.move_to_end(key)
            return found
    atom_rows = await breakdown_store.atoms(session, audit) if stamp is not None else None
    if atom_rows is None:
        atom_rows = breakdown_store.atom_rows(
            await queries.atom_counts(
                session, audit.id, meta=meta, item_keys=partial_items, section_keys=partial_sections
            )
        )
    units: dict[tuple[str, str], tuple[dict[Any, int], dict[Any, int]]] = defaultdict(
        lambda: ({}, {})
    )
    for unit_kind, unit, *atom_values, n_answered, n_scored in atom_rows:
        atom = tuple(atom_values)
        answered, scored = units[(unit_kind, unit)]
        answered[atom] = n_answered
        scored[atom] = n_scored
    everyone = units[("respondents", "")]
    for unit in [("item", i) for i in figures.items_keys(items) if i not in partial_items] + [
        ("section", s.key) for s in sections if s.key not in partial_sections
    ]:
        units[unit] = everyone
    cache = suppression.PatternCache(k)
    decided = _Decided(
        respondents=cache.get(everyone[0]),
        # One pattern per figure (items everybody answered share theirs), decided once.
        patterns={
            unit: (cache.get(units[unit][0]), cache.get(units[unit][1]))
            for unit in [("item", i.key) for i in items] + [("section", s.key) for s in sections]
        },
    )
    if stamp is not None:
        _DECIDED[key] = decided
        while len(_DECIDED) > _DECIDED_SIZE:
            _DECIDED.popitem(last=False)
    return decided


async def breakdown(
    session: AsyncSession,
    audit: Audit,
    items: Sequence[instrument_schemas.Item],
    sections: Sequence[instrument_schemas.Section],
    *,
    meta: Sequence[queries.ItemMeta],
    measures: Sequence[str],
    by: Sequence[str],
    totals: figures.Figures,
    section_totals: figures.Figures,
    respondent_total: int,
    schools: frozenset[uuid.UUID] | None = None,
) -> list[schemas.CellResult]:
    """The cells of ``by`` (only those of ``schools`` when given, by school), each with every
    item and section; suppression is decided over the whole audit, so a viewer who sees only
    some cells sees a subset of what is safe to publish."""
    k = audit.min_group_size
    # Figures everybody answered with a score count exactly the respondents: only the others
    # need their own atoms.
    partial_items, partial_sections = breakdown_store.partial_units(
        items, sections, totals, section_totals, respondent_total
    )
    decided = await _decide(
        session, audit, items, sections, meta, partial_items, partial_sections, k
    )
    respondents, patterns = decided.respondents, decided.patterns

    stored = await breakdown_store.rows(session, audit, by)
    if stored is not None:
        item_rows, section_rows = stored
    else:
        item_rows = await queries.item_figures(
            session, audit.id, meta=meta, measures=measures, dims=by
        )
        section_rows = (
            await queries.section_figures(session, audit.id, meta=meta, dims=by) if sections else []
        )
    item_figs = figures.Figures(item_rows, "item_key", by)
    section_figs = figures.Figures(section_rows, "section", by)
    names = await _school_names(session, audit.trust_id)
    canonical = tuple(sorted(by, key=suppression.DIMENSIONS.index))
    cells = decided.cells(canonical)
    out = []
    for key in cells:
        values = dict(zip(canonical, key[1], strict=True))
        if schools is not None and values.get("school") not in schools:
            continue
        group = {d: values[d] for d in by}
        cell_values = tuple(group[d] for d in by)
        reason = respondents.reason(key)
        cell_withheld = suppression.withheld_reason(reason, k)
        item_results = []
        for item in items:
            a_w, s_w = _cell_reasons(*patterns[("item", item.key)], key, k)
            if cell_withheld:
                a_w = cell_withheld
            item_results.append(
                figures.build_item(
                    item,
                    item_figs.summary.get((*cell_values, item.key)),
                    item_figs.dist.get((*cell_values, item.key)),
                    answered_withheld=a_w,
                    scored_withheld=s_w,
                )
            )
        section_results = []
        for section in sections:
            a_w, s_w = figures.section_guard(
                section.key,
                item_results,
                *_cell_reasons(*patterns[("section", section.key)], key, k),
            )
            if cell_withheld:
                a_w = cell_withheld
            section_results.append(
                figures.build_section(
                    section,
                    [i for i in items if i.section == section.key],
                    section_figs.summary.get((*cell_values, section.key)),
                    section_figs.dist.get((*cell_values, section.key)),
                    answered_withheld=a_w,
                    scored_withheld=s_w,
                )
            )
        out.append(
            schemas.CellResult(
                group={d: (str(v) if isinstance(v, uuid.UUID) else v) for d, v in group.items()},
                label=_label(group, names),
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


def leaders_v_staff(
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
                else figures.round_(lead_value - staff_value),
                measure=measure,
                withheld=withheld,
            )
        )
    return out
