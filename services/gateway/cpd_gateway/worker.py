"""``python -m cpd_gateway.worker``: relays the directory events from the gateway's outbox,
projects each service's erasure confirmations (the erasure report), fans every event out to
the webhook subscriptions that want it and posts the due deliveries."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.events.inbox import Subscription
from cpd_common.worker import PeriodicTask, run_worker
from cpd_gateway import secret_box
from cpd_gateway.directory import erasure
from cpd_gateway.sessions import service as sessions
from cpd_gateway.settings import Settings
from cpd_gateway.webhooks import delivery, fanout


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="gateway-erasures",
            filter_subject="cpd.*.erasure.completed",
            handlers=erasure.confirmation_handlers(),
        ),
        fanout.subscription(),
    ]


def periodic(settings: Settings) -> list[PeriodicTask]:
    box = secret_box.box_of(settings)  # the worker does not start without CPD_SECRETS_KEY

    async def deliver(session: AsyncSession) -> int:
        return await delivery.deliver_due(
            session,
            box=box,
            allow_loopback=settings.webhooks_allow_loopback,
            timeout=settings.webhook_timeout_seconds,
        )

    return [
        PeriodicTask("webhook-deliveries", settings.webhook_poll_seconds, deliver),
        PeriodicTask("webhook-housekeeping", 3600.0, delivery.prune_finished),
        PeriodicTask("session-housekeeping", 3600.0, sessions.prune_ended),
    ]


def main() -> None:
    settings = Settings()
    run_worker(settings, subscriptions(), periodic=periodic(settings))


if __name__ == "__main__":
    main()
