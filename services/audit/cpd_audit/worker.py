"""``python -m cpd_audit.worker``: the audit service's outbox relay and event consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import audience
from cpd_audit.erasure import erase_person_plans, scrub_erased_name
from cpd_audit.models import Audit, InstrumentVersion, Person, School, TokenRevocation
from cpd_audit.responses.service import erase_participation
from cpd_audit.results import totals as results_totals
from cpd_audit.self_audits import service as self_audits_service
from cpd_audit.settings import Settings
from cpd_common.directory import directory_handlers
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Subscription
from cpd_common.worker import run_worker


async def before_erased(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    """Right to erasure of the person's career plans and individual needs while their
    projection row is still there: the needs' tombstones go to their line manager, read
    from it."""
    await erase_person_plans(session, payload.person_id)


async def on_erased(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    """Right to erasure, in the same transaction as the projection row's deletion."""
    await erase_participation(session, payload.person_id)
    await audience.erase(session, payload.person_id)
    await self_audits_service.erase(session, payload.person_id)


async def audit_closed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.AuditClosed
) -> None:
    """A closed audit's breakdown inputs, stored once the close has committed."""
    audit = await session.get(Audit, payload.audit_id)
    if audit is None or audit.status != "closed":
        return  # gone since (nothing to store)
    version = await session.get(InstrumentVersion, audit.instrument_version_id)
    if version is not None:
        await results_totals.store_breakdowns(session, audit, version)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="audit-directory",
            filter_subject="cpd.directory.>",
            handlers=directory_handlers(
                Person,
                School,
                revocation_model=TokenRevocation,
                before_erased=before_erased,
                on_erased=on_erased,
                scrub_name=scrub_erased_name,
                erasure_completed=catalogue.AuditErasureCompleted,
            ),
        ),
        # The audit service's own close: breakdown inputs computed after the close commits.
        Subscription(
            durable="audit-results",
            filter_subject=catalogue.AuditClosed.nats_subject,
            handlers={catalogue.AuditClosed: audit_closed},
        ),
    ]


def main() -> None:
    run_worker(Settings(), subscriptions())


if __name__ == "__main__":
    main()
