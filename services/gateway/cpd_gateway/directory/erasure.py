"""The right to erasure of a person: what is blanked, revoked and scrubbed here, and the
event on which every other service deletes or anonymises what it holds."""

from __future__ import annotations

from sqlalchemy import any_, func, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, revocation
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.erasure import FreeText, scrub_name
from cpd_common.events import catalogue
from cpd_gateway.directory.trusts import require_admin
from cpd_gateway.models import Account, Group, Person, TokenRevocation

ERASED_NAME = "Erased person"
SERVICES_NOTIFIED = ["audit", "lessonstudy", "evaluation"]

# Free text of the directory that may name a person (people's own fields are blanked).
FREE_TEXT = (
    FreeText("groups", "name"),
    FreeText("groups", "description"),
    FreeText("api_clients", "name"),
)


async def erase_person(session: AsyncSession, person: Person, *, principal: Principal) -> Person:
    """Right to erasure: blank every personal field, drop the login and group memberships,
    and tell every service (``directory.person.erased``) to delete or anonymise theirs."""
    require_admin(principal)
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
    events.add(
        session,
        catalogue.PersonErased(person_id=person.id, trust_id=person.trust_id),
    )
    return person
