"""Webhook subscriptions of a trust: trust admins manage all of them, an API client its own.
Creating one checks the URL (:mod:`cpd_gateway.webhooks.addresses`) and the event types, and
returns the signing secret once; the secret can be rotated; a subscription can be paused,
changed and deleted. Deliveries are listed with their attempts, and a failed one replayed."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_gateway.secret_box import SecretBox
from cpd_gateway.webhooks import addresses, catalogue, errors, schemas
from cpd_gateway.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

RETRY_FOR = timedelta(hours=24)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _require(principal: Principal) -> None:
    if not (principal.is_trust_admin or principal.client_id):
        raise errors.WebhooksForbidden(
            "Webhooks are managed by trust admins, and by API clients for their own."
        )


def subscriptions_query(*, principal: Principal) -> Select[Any]:
    _require(principal)
    stmt = select(WebhookSubscription).where(WebhookSubscription.trust_id == principal.trust_id)
    if principal.client_id and not principal.is_trust_admin:
        stmt = stmt.where(WebhookSubscription.owner_client_id == principal.client_id)
    return stmt


async def get_subscription(
    session: AsyncSession, webhook_id: uuid.UUID, *, principal: Principal
) -> WebhookSubscription:
    found = await session.scalar(
        subscriptions_query(principal=principal).where(WebhookSubscription.id == webhook_id)
    )
    if found is None:
        raise errors.WebhookNotFound()
    return found


async def _checked_url(url: str, *, allow_loopback: bool) -> str:
    try:
        await addresses.resolve_allowed(url, allow_loopback=allow_loopback)
    except addresses.RefusedAddress as exc:
        raise errors.RefusedUrl(
            f"This URL cannot receive webhooks: {exc}.",
            errors=[{"loc": "body.url", "msg": str(exc)}],
        ) from exc
    return url


def _checked_types(patterns: list[str]) -> list[str]:
    unknown = catalogue.unknown_patterns(patterns)
    if unknown:
        raise errors.UnknownEventType(
            "Name event types of the catalogue (GET /asyncapi.json), or patterns with *.",
            errors=[{"loc": "body.event_types", "msg": f"unknown: {p}"} for p in unknown],
        )
    return sorted(set(patterns))


async def create_subscription(
    session: AsyncSession,
    data: schemas.WebhookCreate,
    *,
    principal: Principal,
    allow_loopback: bool,
    box: SecretBox,
) -> tuple[WebhookSubscription, str]:
    """The subscription and its signing secret in clear (answered once, stored encrypted)."""
    _require(principal)
    secret = new_secret()
    event_types = _checked_types(data.event_types)
    subscription = WebhookSubscription(
        trust_id=principal.trust_id,
        url=await _checked_url(data.url, allow_loopback=allow_loopback),
        event_types=event_types,
        description=data.description,
        status="active",
        secret_encrypted=box.seal(secret),
        owner_client_id=principal.client_id,
        created_by=principal.sub,
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def update_subscription(
    session: AsyncSession,
    subscription: WebhookSubscription,
    data: schemas.WebhookUpdate,
    *,
    allow_loopback: bool,
) -> WebhookSubscription:
    if data.event_types is not None:
        subscription.event_types = _checked_types(data.event_types)
    if data.url is not None:
        subscription.url = await _checked_url(data.url, allow_loopback=allow_loopback)
    if "description" in data.model_fields_set:
        subscription.description = data.description
    if data.status is not None:
        subscription.status = data.status
    subscription.updated_at = utcnow()
    await session.flush()
    return subscription


async def rotate_secret(
    session: AsyncSession, subscription: WebhookSubscription, *, box: SecretBox
) -> str:
    """A new secret signs every delivery from now on (retries of earlier events too)."""
    secret = new_secret()
    subscription.secret_encrypted = box.seal(secret)
    subscription.updated_at = utcnow()
    await session.flush()
    return secret


async def delete_subscription(session: AsyncSession, subscription: WebhookSubscription) -> None:
    # Listed to trust admins and to the API client that owns it (subscriptions_query).
    await tombstones.delete(
        session,
        subscription,
        visible_to=tombstones.audience(
            roles=("trust_admin",), clients=[subscription.owner_client_id]
        ),
    )


def deliveries_query(subscription: WebhookSubscription) -> Select[Any]:
    return select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)


async def delivery_reads(
    session: AsyncSession, rows: list[WebhookDelivery]
) -> list[schemas.DeliveryRead]:
    tries: dict[uuid.UUID, list[schemas.AttemptRead]] = defaultdict(list)
    if rows:
        attempts = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([r.id for r in rows]))
            .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
        )
        for attempt in attempts:
            tries[attempt.delivery_id].append(schemas.AttemptRead.model_validate(attempt))
    return [
        schemas.DeliveryRead.model_validate(r).model_copy(update={"tries": tries[r.id]})
        for r in rows
    ]


async def replay_delivery(
    session: AsyncSession, subscription: WebhookSubscription, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """A failed delivery goes again, with the same ``webhook-id``, and retries for another
    24 hours."""
    delivery = await session.scalar(
        deliveries_query(subscription).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None:
        raise errors.DeliveryNotFound()
    if delivery.status != "failed":
        raise errors.NotReplayable(f"This delivery is {delivery.status}.")
    now = utcnow()
    delivery.status = "pending"
    delivery.next_attempt_at = now
    delivery.give_up_at = now + RETRY_FOR
    delivery.finished_at = None
    await session.flush()
    return delivery
