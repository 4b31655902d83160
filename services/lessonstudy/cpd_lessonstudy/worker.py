"""``python -m cpd_lessonstudy.worker``: the lessonstudy service's outbox relay and event consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.directory import directory_handlers
from cpd_common.events import Event, catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Handler, Subscription
from cpd_common.worker import run_worker
from cpd_lessonstudy.groups import members as group_members
from cpd_lessonstudy.groups import needs as known_needs
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import Person, School, TokenRevocation
from cpd_lessonstudy.settings import Settings


def directory_subscription_handlers() -> dict[type[Event], Handler]:
    """The directory projection, plus erasure: the person's name is first scrubbed from the
    trust's study notes, enquiries and learning communities (``scrub_name``: that needs the
    projection row, which the shared handler then deletes), and their memberships become
    anonymous former members (``on_erased``)."""

    async def scrub_name(
        session: AsyncSession, payload: catalogue.PersonErased, name: str | None
    ) -> None:
        await members_service.scrub_erased_name(session, payload, name)
        # Enquiries and learning communities too (their free text and their members).
        await group_members.scrub_erased_name(session, payload.person_id, payload.trust_id)

    async def replace_erased(
        session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
    ) -> None:
        await members_service.replace_erased_member(session, event, payload)
        await group_members.replace_erased_member(session, payload.person_id)

    return directory_handlers(
        Person,
        School,
        revocation_model=TokenRevocation,
        scrub_name=scrub_name,
        on_erased=replace_erased,
        erasure_completed=catalogue.LessonStudyErasureCompleted,
    )


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            durable="lessonstudy-directory",
            filter_subject="cpd.directory.>",
            handlers=directory_subscription_handlers(),
        ),
        Subscription(
            durable="lessonstudy-needs",
            filter_subject="cpd.audit.need.>",
            handlers={catalogue.NeedRecorded: known_needs.need_recorded},
        ),
    ]


def main() -> None:
    run_worker(Settings(), subscriptions())


if __name__ == "__main__":
    main()
