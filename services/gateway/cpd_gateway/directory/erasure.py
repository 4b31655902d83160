"""The right to erasure of a person: what is blanked, revoked and scrubbed here, the event
on which every other service deletes or anonymises what it holds, and the report of which
services have confirmed that they finished (each publishes ``cpd.<service>.erasure.completed``
in the transaction that erased; the gateway's worker projects those into
``erasure_confirmations``, where the gateway writes its own with the erasure)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import any_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, revocation, tombstones
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.erasure import FreeText, scrub_name
from cpd_common.events import Event, catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Handler
from cpd_gateway.directory import schemas
from cpd_gateway.directory.trusts import PROVISIONING_ROLE, require_people_manager
from cpd_gateway.models import (
    Account,
    ErasureConfirmation,
    Group,
    Person,
    TokenRevocation,
    Tombstone,
)

ERASED_NAME = "Erased person"
SERVICES_NOTIFIED = ["audit", "lessonstudy", "evaluation"]
# The services whose confirmation the report waits for, and the event each confirms with.
CONFIRMATIONS: dict[str, type[Event]] = {
    "audit": catalogue.AuditErasureCompleted,
    "lessonstudy": catalogue.LessonStudyErasureCompleted,
    "evaluation": catalogue.EvaluationErasureCompleted,
}
SERVICES = ["gateway", *CONFIRMATIONS]

# Free text of the directory that may name a person (people's own fields are blanked).
FREE_TEXT = (
    FreeText("groups", "name"),
    FreeText("groups", "description"),
    FreeText("api_clients", "name"),
)


async def erase_person(session: AsyncSession, person: Person, *, principal: Principal) -> Person:
    """Right to erasure: blank every personal field, drop the login and group memberships,
    and tell every service (``directory.person.erased``) to delete or anonymise theirs."""
    require_people_manager(principal)
    if person.erased_at is not None:
        return person
    await revocation.record(
        session,
        TokenRevocation,
        subject=revocation.subject_of_person(person.id),
        trust_id=person.trust_id,
        active=False,
        roles=[],
        school_ids=[],
        at=utcnow(),
        narrowed=True,
        deactivated=True,
    )
    account = await session.get(Account, person.id)
    if account is not None:
        await session.delete(account)
    # Before the name is blanked: take it out of what admins wrote about groups and clients.
    await scrub_name(
        session,
        name=person.name,
        person_id=person.id,
        trust_id=person.trust_id,
        columns=FREE_TEXT,
    )
    person.name = ERASED_NAME
    person.email = None
    person.department = None
    person.external_id = None
    person.user_name = None
    person.given_name = None
    person.family_name = None
    person.employee_number = None
    person.start_date = None
    person.line_manager_id = None
    person.roles = []
    person.active = False
    person.erased_at = utcnow()
    await session.execute(
        update(Group)
        .where(
            Group.trust_id == person.trust_id,
            any_(Group.member_ids) == person.id,
        )
        .values(member_ids=func.array_remove(Group.member_ids, person.id))
    )
    await session.execute(
        update(Person)
        .where(Person.trust_id == person.trust_id, Person.line_manager_id == person.id)
        .values(line_manager_id=None)
    )
    await session.flush()
    # Recorded after the blanked row is written, so sync clients see the tombstone last.
    # To who could list the person: people managers, leaders of the person's schools, and
    # the person (directory.people.people_query).
    await tombstones.record(
        session,
        Tombstone,
        resource="people",
        ids=[person.id],
        trust_id=person.trust_id,
        visible_to=tombstones.audience(
            people=[person.id],
            roles=("trust_admin", PROVISIONING_ROLE),
            school_roles=("school_leader",),
            schools=person.school_ids or [],
        ),
    )
    events.add(
        session,
        catalogue.PersonErased(person_id=person.id, trust_id=person.trust_id),
    )
    await record_confirmation(
        session,
        service="gateway",
        person_id=person.id,
        trust_id=person.trust_id,
        at=person.erased_at,
    )
    return person


async def record_confirmation(
    session: AsyncSession,
    *,
    service: str,
    person_id: uuid.UUID,
    trust_id: uuid.UUID,
    at: datetime,
) -> None:
    """The first confirmation of a service counts (a replayed event changes nothing)."""
    await session.execute(
        insert(ErasureConfirmation)
        .values(person_id=person_id, service=service, trust_id=trust_id, confirmed_at=at)
        .on_conflict_do_nothing(index_elements=["person_id", "service"])
    )


def confirmation_handlers() -> dict[type[Event], Handler]:
    """The gateway worker's handlers of every service's ``erasure.completed`` event."""

    def handler(service: str) -> Handler:
        async def confirmed(session: AsyncSession, event: CloudEvent, payload: Any) -> None:
            await record_confirmation(
                session,
                service=service,
                person_id=payload.person_id,
                trust_id=payload.trust_id,
                at=event.time,
            )

        return confirmed

    return {model: handler(service) for service, model in CONFIRMATIONS.items()}


async def report(session: AsyncSession, person: Person) -> schemas.ErasureRead:
    """Per service: confirmed (and when) or still pending."""
    assert person.erased_at is not None
    confirmed = {
        row.service: row.confirmed_at
        for row in (
            await session.execute(
                select(ErasureConfirmation.service, ErasureConfirmation.confirmed_at).where(
                    ErasureConfirmation.person_id == person.id
                )
            )
        ).all()
    }
    services = [
        schemas.ErasureServiceRead(
            service=service,
            status="confirmed" if service in confirmed else "pending",
            confirmed_at=confirmed.get(service),
        )
        for service in SERVICES
    ]
    return schemas.ErasureRead(
        person_id=person.id,
        status="erased",
        erased_at=person.erased_at,
        services_notified=SERVICES_NOTIFIED,
        complete=all(s.status == "confirmed" for s in services),
        services=services,
    )
