"""``python -m cpd_gateway.worker``: relays the directory events from the gateway's outbox and
projects each service's erasure confirmations (the erasure report)."""

from __future__ import annotations

from cpd_common.events.inbox import Subscription
from cpd_common.worker import run_worker
from cpd_gateway.directory import erasure
from cpd_gateway.settings import Settings


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="gateway-erasures",
            filter_subject="cpd.*.erasure.completed",
            handlers=erasure.confirmation_handlers(),
        )
    ]


def main() -> None:
    run_worker(Settings(), subscriptions())


if __name__ == "__main__":
    main()
