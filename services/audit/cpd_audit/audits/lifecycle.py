"""An audit's life cycle: draft -> open (the audience is frozen, ``audit.audit.opened``) ->
closed (``audit.audit.closed`` carries the per-item aggregates exactly as the results show
them)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import access, audience
from cpd_audit.audits import service as audits_service
from cpd_audit.audits.errors import IllegalTransition, NotAuditManager
from cpd_audit.models import Audit, Instrument, InstrumentVersion
from cpd_audit.results import figures
from cpd_audit.results import service as results_service
from cpd_audit.results import totals as results_totals
from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.events import catalogue


async def _locked(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal, status: str, verb: str
) -> Audit:
    """The audit, locked for its transition, when the caller manages it and it is ``status``
    (409 otherwise: "cannot be ``verb``")."""
    audit = await audits_service.get_audit(session, audit_id, principal=principal)
    if not access.may_manage(principal, audit):
        raise NotAuditManager()
    locked = await session.scalar(select(Audit).where(Audit.id == audit.id).with_for_update())
    assert locked is not None
    if locked.status != status:
        raise IllegalTransition(f"An audit that is {locked.status} cannot be {verb}.")
    return locked


def _about(audit: Audit, instrument: Instrument, version: InstrumentVersion) -> dict[str, Any]:
    """What every life-cycle event says of the audit and its instrument."""
    return {
        "audit_id": audit.id,
        "trust_id": audit.trust_id,
        "instrument_id": instrument.id,
        "instrument_key": instrument.key,
        "instrument_version": version.version,
        "title": audit.title,
        "scope": catalogue.AuditScope(kind=audit.scope_kind, school_ids=list(audit.school_ids)),
    }


async def open_audit(session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal) -> Audit:
    locked = await _locked(session, audit_id, principal=principal, status="draft", verb="opened")
    instrument, version = await audits_service.instrument_of(session, locked)
    locked.status = "open"
    locked.opened_at = utcnow()
    locked.updated_at = locked.opened_at
    locked.audience_size = await audience.freeze(session, locked)
    events.add(
        session,
        catalogue.AuditOpened(
            **_about(locked, instrument, version),
            audience_size=locked.audience_size,
        ),
    )
    await session.flush()
    return locked


async def close_audit(session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal) -> Audit:
    """Closes the round and publishes ``audit.audit.closed`` with the per-item aggregates
    exactly as the results show them: withheld items carry no figures."""
    locked = await _locked(session, audit_id, principal=principal, status="open", verb="closed")
    locked.status = "closed"
    locked.closed_at = utcnow()
    locked.updated_at = locked.closed_at
    instrument, version = await audits_service.instrument_of(session, locked)
    # The whole-audit figures are final now (no response lands in a closed audit): stored
    # once, read back by every results view.
    await results_totals.store(session, locked, version)
    results = await results_service.compute_results(session, locked, instrument, version)
    events.add(
        session,
        catalogue.AuditClosed(
            **_about(locked, instrument, version),
            respondent_count=results.respondents,
            min_group_size=locked.min_group_size,
            items=[figures.item_aggregate(i) for i in results.items],
        ),
    )
    await session.flush()
    return locked
