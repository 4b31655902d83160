"""``python -m cpd_evaluation.worker``: the evaluation service's outbox relay and event consumers."""

from __future__ import annotations

from cpd_common.directory import directory_handlers
from cpd_common.events.inbox import Subscription
from cpd_common.worker import run_worker
from cpd_evaluation.models import Person, School
from cpd_evaluation.settings import Settings


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="evaluation-directory",
            filter_subject="cpd.directory.>",
            handlers=directory_handlers(Person, School),
        ),
    ]


def main() -> None:
    run_worker(Settings(), subscriptions())


if __name__ == "__main__":
    main()
