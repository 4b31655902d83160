"""Posting webhook deliveries (the gateway worker's periodic ``webhook-deliveries`` task).

Each round claims the due pending deliveries (``FOR UPDATE SKIP LOCKED``, so replicas share
the work) whose subscription is active and which have no earlier pending delivery for the same
subscription and subject (an aggregate's events arrive in the stream's order), checks the
URL again, and posts them concurrently per the Standard Webhooks
specification: ``webhook-id`` (the event id, the same on every retry), ``webhook-timestamp``
and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``). A 2xx is
success; anything else is retried with exponential backoff and jitter until 24 hours after
the first try, then the delivery is marked failed (it can be replayed). Redirects are not
followed. Finished deliveries (and their attempts) are kept 30 days.

The client's connections are pinned (:mod:`cpd_gateway.webhooks.pinned`): each resolves the
host once, checks every address with the rules of :mod:`addresses`, and connects to a checked
address, so a name rebound to a private address since the subscription was saved is refused
at that point (an attempt with outcome ``refused`` and the reason, retried like any failure
until the delivery gives up) and no second lookup can differ from the one checked.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook

from cpd_common.db import utcnow
from cpd_gateway.secret_box import SecretBox
from cpd_gateway.webhooks import addresses, pinned
from cpd_gateway.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

log = logging.getLogger("cpd.webhooks")

FIRST_RETRY_SECONDS = 10.0
LONGEST_WAIT_SECONDS = 3 * 3600.0
BATCH = 20
KEEP_FINISHED = timedelta(days=30)


def retry_delay(attempts: int) -> timedelta:
    """Exponential from 10 s (doubling per attempt, at most 3 h), with up to 20 % jitter."""
    base = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_WAIT_SECONDS)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def signed_headers(secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "cpd-platform-webhooks/1",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


@dataclass
class Outcome:
    outcome: str  # succeeded, http_error, network_error, refused
    status_code: int | None
    latency_ms: int
    error: str | None


async def _post(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: str, *, loopback: bool
) -> Outcome:
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        addresses.check_url(url, allow_loopback=loopback)
        # The addresses are resolved and checked by the pinned connection (none is opened
        # when an open one to the same origin is reused: it went to a checked address).
        resp = await client.post(url, content=body.encode(), headers=headers)
    except addresses.RefusedAddress as exc:
        return Outcome("refused", None, took(), str(exc)[:500])
    except httpx.HTTPError as exc:
        return Outcome("network_error", None, took(), (type(exc).__name__ + f": {exc}")[:500])
    if 200 <= resp.status_code < 300:
        return Outcome("succeeded", resp.status_code, took(), None)
    return Outcome("http_error", resp.status_code, took(), f"HTTP {resp.status_code}")


def due_query(now: datetime) -> object:
    earlier = aliased(WebhookDelivery)
    return (
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.status == "active",
            ~exists().where(
                and_(
                    earlier.subscription_id == WebhookDelivery.subscription_id,
                    earlier.subject == WebhookDelivery.subject,
                    earlier.status == "pending",
                    earlier.seq < WebhookDelivery.seq,
                )
            ),
        )
        .order_by(WebhookDelivery.seq)
        .limit(BATCH)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )


async def deliver_due(
    session: AsyncSession,
    *,
    box: SecretBox,
    allow_loopback: bool,
    timeout: float = 5.0,
    now: datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """One round: posts every due delivery once; returns how many were attempted. The client
    connects through :class:`pinned.PinnedTransport` unless a test passes ``transport``."""
    now = now or utcnow()
    claimed = (await session.execute(due_query(now))).all()  # type: ignore[call-overload]
    if not claimed:
        return 0
    async with httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        transport=transport or pinned.PinnedTransport(allow_loopback=allow_loopback),
    ) as client:
        outcomes = await asyncio.gather(
            *(
                _post(
                    client,
                    subscription.url,
                    signed_headers(
                        box.open(subscription.secret_encrypted),
                        delivery.event_id,
                        delivery.body,
                        now,
                    ),
                    delivery.body,
                    loopback=allow_loopback,
                )
                for delivery, subscription in claimed
            )
        )
    for (delivery, _), outcome in zip(claimed, outcomes, strict=True):
        record(session, delivery, outcome, now=now)
    await session.flush()
    return len(claimed)


def record(
    session: AsyncSession, delivery: WebhookDelivery, outcome: Outcome, *, now: datetime
) -> None:
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            outcome=outcome.outcome,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
        )
    )
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    if outcome.outcome == "succeeded":
        delivery.status = "succeeded"
        delivery.next_attempt_at = None
        delivery.finished_at = now
        return
    retry_at = now + retry_delay(delivery.attempts)
    if retry_at > delivery.give_up_at:
        delivery.status = "failed"
        delivery.next_attempt_at = None
        delivery.finished_at = now
        log.warning("webhook delivery %s failed for good: %s", delivery.id, outcome.error)
    else:
        delivery.next_attempt_at = retry_at


async def prune_finished(session: AsyncSession, *, now: datetime | None = None) -> None:
    """Forgets deliveries that succeeded or failed more than 30 days ago (hourly)."""
    cutoff = (now or utcnow()) - KEEP_FINISHED
    await session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status != "pending", WebhookDelivery.finished_at < cutoff
        )
    )
