"""Integration events: the catalogue of typed events, the transactional outbox and its relay,
idempotent consumers with an inbox and dead letters.

Producers: ``events.add(session, AuditOpened(...))`` in the request's transaction.
Consumers: ``Subscription(..., handlers={AuditOpened: on_audit_opened})``.
"""

from cpd_common.events.catalogue import CATALOGUE, Event, Payload
from cpd_common.events.outbox import add, add_many

__all__ = ["CATALOGUE", "Event", "Payload", "add", "add_many"]
