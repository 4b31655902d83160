"""The gateway worker's webhook consumer (durable ``gateway-webhooks`` on every event): each
event of the stream becomes one pending delivery per active subscription of its trust that
wants it, in the consumer's transaction (so a redelivered event adds nothing). Each fetched
batch is first checked in one query (:func:`wanted`): an event no subscription of its trust
can want is acked with no transaction and no inbox row (it has nothing to deliver), so the
fan-out costs little where few trusts subscribe (a 10,000-person import, for one).

What a subscriber may see: only its own trust's events; only events published after it
subscribed; and a QA client's subscription never gets an event naming people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.db import utcnow
from cpd_common.events.catalogue import CATALOGUE
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Handler, Subscription
from cpd_gateway.models import ApiClient
from cpd_gateway.webhooks import catalogue
from cpd_gateway.webhooks.models import WebhookDelivery, WebhookSubscription
from cpd_gateway.webhooks.service import RETRY_FOR

DURABLE = "gateway-webhooks"


async def fan_out(session: AsyncSession, event: CloudEvent, _payload: Any) -> None:
    trust_id = event.trust_id
    if trust_id is None:
        return
    subscriptions = (
        await session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.trust_id == trust_id,
                WebhookSubscription.status == "active",
                WebhookSubscription.created_at <= event.time,
            )
        )
    ).all()
    wanted = [s for s in subscriptions if catalogue.matches(s.event_types, event.type)]
    if not wanted:
        return
    owners = {s.owner_client_id for s in wanted if s.owner_client_id}
    clients = {
        c.client_id: c
        for c in (
            await session.scalars(select(ApiClient).where(ApiClient.client_id.in_(owners)))
        ).all()
    }
    body = event.model_dump_json()
    now = utcnow()
    for subscription in wanted:
        if subscription.owner_client_id is not None:
            client = clients.get(subscription.owner_client_id)
            if client is None or not client.active or client.trust_id != trust_id:
                continue
            if "qa_reader" in client.roles and catalogue.person_level(event.type):
                continue
        await session.execute(
            insert(WebhookDelivery)
            .values(
                trust_id=trust_id,
                subscription_id=subscription.id,
                event_id=event.id,
                event_type=event.type,
                subject=event.subject or event.id,
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                give_up_at=now + RETRY_FOR,
            )
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
        )


async def wanted(session: AsyncSession, events: Sequence[CloudEvent]) -> set[str]:
    """The events of a fetched batch that some active subscription of their trust may want
    (one query for the batch): the others, most events when few trusts subscribe, are acked
    without a transaction or an inbox row each. :func:`fan_out` decides for the rest."""
    trusts = {event.trust_id for event in events} - {None}
    if not trusts:
        return set()
    rows = (
        await session.execute(
            select(
                WebhookSubscription.trust_id,
                WebhookSubscription.event_types,
                WebhookSubscription.created_at,
            ).where(
                WebhookSubscription.trust_id.in_(trusts),
                WebhookSubscription.status == "active",
            )
        )
    ).all()
    return {
        event.id
        for event in events
        if any(
            trust_id == event.trust_id
            and created_at <= event.time
            and catalogue.matches(event_types, event.type)
            for trust_id, event_types, created_at in rows
        )
    }


def subscription() -> Subscription:
    handlers: dict[Any, Handler] = dict.fromkeys(CATALOGUE.values(), fan_out)
    return Subscription(durable=DURABLE, filter_subject="cpd.>", handlers=handlers, relevant=wanted)
