"""A closed audit's breakdown inputs, computed once after the close.

Like :mod:`cpd_audit.results.totals`: a closed audit takes no more responses, so the inputs
of its breakdowns never change after the close. :func:`store` computes them, before any
suppression, when the audit worker handles the close's ``audit.audit.closed`` (its own
transaction: for 100,000 responses this reads the answers for many seconds, which the close's
request does not wait for; until then breakdowns are computed from the answers):

- the atom counts (``queries.atom_counts``: respondents, and those who answered and scored
  each figure not everybody answered with a score, per combination of the five attributes),
  which the suppression pattern over every table is decided on;
- the per-cell SQL rows of ``queries.item_figures`` and ``queries.section_figures`` for each
  set of dimensions in :data:`STORED`: each dimension alone, and school with each other one
  (what a viewer who sees only their own schools' cells gets for ``?by=<dimension>``).

Reads take them by primary key; suppression (primary, complementary by lines and the exact
difference checks) is applied on every read from these same inputs, exactly as on the scan
path, so the answers are the same. Other sets of dimensions, and audits closed before these
were stored, are computed from their answers on every read, as before.

Erasure changes nothing here: it removes a person's participation record and scrubs names
from free text (``cpd_audit.erasure``); answers and their attributes, which are never linked
to a person, stay, and no figure stored here reads any text.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.models import Audit, AuditResultAtoms, AuditResultBreakdown
from cpd_audit.results import figures, queries, suppression
from cpd_common.db import utcnow

# The sets of dimensions whose rows are stored, each in DIMENSIONS order.
STORED: tuple[tuple[str, ...], ...] = tuple((d,) for d in suppression.DIMENSIONS) + tuple(
    ("school", d) for d in suppression.DIMENSIONS if d != "school"
)

# An atom-count row: unit kind, unit key, the five attributes (DIMENSIONS order), answered,
# scored.
AtomRow = tuple[Any, ...]
_ATTRS = [c.split(".")[1] for c in queries.DIMENSION_COLUMNS.values()]


def dims_key(dims: Sequence[str]) -> str:
    return ",".join(sorted(dims, key=suppression.DIMENSIONS.index))


def partial_units(
    items: Sequence[instrument_schemas.Item],
    sections: Sequence[instrument_schemas.Section],
    item_totals: figures.Figures,
    section_totals: figures.Figures,
    respondents: int,
) -> tuple[list[str], list[str]]:
    """The items and sections not everybody answered with a score: only those need their own
    atom counts (the others share the respondents')."""
    return (
        [
            i.key
            for i in items
            if not figures.complete(item_totals.summary.get((i.key,)), respondents)
        ],
        [
            s.key
            for s in sections
            if not figures.complete(section_totals.summary.get((s.key,)), respondents)
        ],
    )


def atom_rows(rows: Sequence[dict[str, Any]]) -> list[AtomRow]:
    """``queries.atom_counts`` rows as tuples."""
    return [
        (r["unit_kind"], r["unit"], *(r[a] for a in _ATTRS), int(r["answered"]), int(r["scored"]))
        for r in rows
    ]


def _school_id(value: Any, seen: dict[str, uuid.UUID]) -> uuid.UUID | None:
    if value is None:
        return None
    found = seen.get(value)
    if found is None:
        found = seen[value] = uuid.UUID(value)
    return found


def _dump_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        row = dict(row)
        row["group"] = {
            d: (str(v) if isinstance(v, uuid.UUID) else v) for d, v in row["group"].items()
        }
        if isinstance(row.get("d_school"), uuid.UUID):
            row["d_school"] = str(row["d_school"])
        out.append(row)
    return out


def _load_rows(rows: Sequence[dict[str, Any]], seen: dict[str, uuid.UUID]) -> list[dict[str, Any]]:
    for row in rows:
        group = row["group"]
        if "school" in group:
            group["school"] = _school_id(group["school"], seen)
        if "d_school" in row:
            row["d_school"] = _school_id(row["d_school"], seen)
    return list(rows)


async def store(
    session: AsyncSession,
    audit: Audit,
    items: Sequence[instrument_schemas.Item],
    sections: Sequence[instrument_schemas.Section],
    *,
    item_totals: figures.Figures,
    section_totals: figures.Figures,
    respondents: int,
) -> None:
    """Computes and stores a closed audit's breakdown inputs (once: a second call changes
    nothing)."""
    assert audit.status == "closed", "only a closed audit's figures are final"
    meta = figures.item_meta(items)
    measures = figures.measures_of(items)
    partial_items, partial_sections = partial_units(
        items, sections, item_totals, section_totals, respondents
    )
    rows = await queries.atom_counts(
        session, audit.id, meta=meta, item_keys=partial_items, section_keys=partial_sections
    )
    units = [
        [kind, unit, str(school) if school is not None else None, *rest]
        for kind, unit, school, *rest in atom_rows(rows)
    ]
    now = utcnow()
    await session.execute(
        insert(AuditResultAtoms)
        .values(audit_id=audit.id, units=units, computed_at=now)
        .on_conflict_do_nothing(index_elements=["audit_id"])
    )
    for dims in STORED:
        item_rows = await queries.item_figures(
            session, audit.id, meta=meta, measures=measures, dims=dims
        )
        section_rows = (
            await queries.section_figures(session, audit.id, meta=meta, dims=dims)
            if sections
            else []
        )
        await session.execute(
            insert(AuditResultBreakdown)
            .values(
                audit_id=audit.id,
                dims=dims_key(dims),
                items=_dump_rows(item_rows),
                sections=_dump_rows(section_rows),
                computed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["audit_id", "dims"])
        )


async def atoms_stamp(session: AsyncSession, audit: Audit) -> datetime | None:
    """When a closed audit's atom counts were stored (None: none stored, scan)."""
    if audit.status != "closed":
        return None
    return await session.scalar(
        select(AuditResultAtoms.computed_at).where(AuditResultAtoms.audit_id == audit.id)
    )


async def atoms(session: AsyncSession, audit: Audit) -> list[AtomRow] | None:
    """The stored atom counts of a closed audit (None: none stored, scan)."""
    if audit.status != "closed":
        return None
    units = await session.scalar(
        select(AuditResultAtoms.units).where(AuditResultAtoms.audit_id == audit.id)
    )
    if units is None:
        return None
    seen: dict[str, uuid.UUID] = {}
    return [(kind, unit, _school_id(school, seen), *rest) for kind, unit, school, *rest in units]


async def rows(
    session: AsyncSession, audit: Audit, by: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """The stored item and section rows of a closed audit for ``by`` (None: not stored)."""
    if (
        audit.status != "closed"
        or tuple(sorted(by, key=suppression.DIMENSIONS.index)) not in STORED
    ):
        return None
    found = (
        await session.execute(
            select(AuditResultBreakdown.items, AuditResultBreakdown.sections).where(
                AuditResultBreakdown.audit_id == audit.id,
                AuditResultBreakdown.dims == dims_key(by),
            )
        )
    ).first()
    if found is None:
        return None
    seen: dict[str, uuid.UUID] = {}
    return _load_rows(found.items, seen), _load_rows(found.sections, seen)
