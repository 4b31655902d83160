"""A closed audit's whole-audit figures, computed once.

Results are released only when an audit closes, and a closed audit takes no more responses
(a response shares the audit's row lock with close), so the whole-audit rows of
:mod:`cpd_audit.results.queries` (items, sections) and the respondent count never change
after the close. :func:`store` computes them in the close's transaction; results read them
back with one primary-key lookup instead of scanning every answer, whatever the number of
responses. Audits closed before totals were stored (or seeded without them) are computed
from their answers on every read, exactly as before. Comments (erasure removes them) are
always read live; the breakdowns' inputs are stored after the close by the audit worker
(:func:`store_breakdowns`, ``breakdown_store``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.instruments import service as instruments_service
from cpd_audit.models import Audit, AuditResultAtoms, AuditResultTotals, InstrumentVersion
from cpd_audit.results import breakdown_store, figures, queries
from cpd_common.db import utcnow


@dataclass(frozen=True)
class Totals:
    respondents: int
    items: list[dict[str, Any]]
    sections: list[dict[str, Any]]


async def compute(
    session: AsyncSession,
    audit_id: uuid.UUID,
    *,
    meta: Sequence[queries.ItemMeta],
    measures: Sequence[str],
    with_sections: bool,
) -> Totals:
    """The whole audit's figures from its answers."""
    return Totals(
        respondents=await queries.respondent_count(session, audit_id),
        items=await queries.item_figures(session, audit_id, meta=meta, measures=measures),
        sections=(
            await queries.section_figures(session, audit_id, meta=meta) if with_sections else []
        ),
    )


async def get(
    session: AsyncSession,
    audit: Audit,
    *,
    meta: Sequence[queries.ItemMeta],
    measures: Sequence[str],
    with_sections: bool,
) -> Totals:
    """The stored figures of a closed audit, else computed from the answers."""
    if audit.status == "closed":
        row = (
            await session.execute(
                select(
                    AuditResultTotals.respondents,
                    AuditResultTotals.items,
                    AuditResultTotals.sections,
                ).where(AuditResultTotals.audit_id == audit.id)
            )
        ).first()
        if row is not None:
            return Totals(row.respondents, row.items, row.sections)
    return await compute(
        session, audit.id, meta=meta, measures=measures, with_sections=with_sections
    )


async def store(session: AsyncSession, audit: Audit, version: InstrumentVersion) -> Totals:
    """Computes and stores a closed audit's whole-audit figures (once: a second call changes
    nothing). The close calls it in its transaction; the breakdowns' inputs follow from the
    close's event (:func:`store_breakdowns`)."""
    assert audit.status == "closed", "only a closed audit's figures are final"
    items = instruments_service.parse_items(version.items)
    totals = await compute(
        session,
        audit.id,
        meta=figures.item_meta(items),
        measures=figures.measures_of(items),
        with_sections=bool(version.sections),
    )
    await session.execute(
        insert(AuditResultTotals)
        .values(
            audit_id=audit.id,
            respondents=totals.respondents,
            items=totals.items,
            sections=totals.sections,
            computed_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["audit_id"])
    )
    return totals


async def store_breakdowns(session: AsyncSession, audit: Audit, version: InstrumentVersion) -> None:
    """Stores a closed audit's breakdown inputs (:mod:`cpd_audit.results.breakdown_store`;
    once: a second call changes nothing). Run by the audit worker on
    ``audit.audit.closed``, in a transaction of its own: for a large audit it reads every
    answer several times, which the close's request must not wait for. Until it has run,
    breakdowns are computed from the answers, with the same result."""
    assert audit.status == "closed", "only a closed audit's figures are final"
    items = instruments_service.parse_items(version.items)
    stored = await session.get(AuditResultTotals, audit.id)
    totals: Any = stored if stored is not None else await store(session, audit, version)
    await breakdown_store.store(
        session,
        audit,
        items,
        [instrument_schemas.Section.model_validate(s) for s in version.sections],
        item_totals=figures.Figures(totals.items, "item_key", ()),
        section_totals=figures.Figures(totals.sections, "section", ()),
        respondents=totals.respondents,
    )


async def store_missing(session: AsyncSession, trust_ids: Sequence[uuid.UUID]) -> int:
    """Stores the figures (and breakdown inputs) of every closed audit of these trusts that
    has none (for data loaded in bulk, e.g. ``cpd seed --scale``, as their close would
    have); returns how many."""
    rows = (
        await session.execute(
            select(Audit, InstrumentVersion)
            .join(InstrumentVersion, InstrumentVersion.id == Audit.instrument_version_id)
            .outerjoin(AuditResultAtoms, AuditResultAtoms.audit_id == Audit.id)
            .where(
                Audit.trust_id.in_(list(trust_ids)),
                Audit.status == "closed",
                AuditResultAtoms.audit_id.is_(None),
            )
            .order_by(Audit.id)
        )
    ).all()
    for audit, version in rows:
        await store(session, audit, version)
        await store_breakdowns(session, audit, version)
    return len(rows)
