"""Seeds the demo trust (``make up`` and the test suite): see :mod:`cpd_demo.trust`, whose
content is data (``deploy/demo/cpd_demo/trust.yaml``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.db import utcnow
from cpd_demo.trust import CLIENTS, DEMO_CREDENTIALS, PEOPLE, PEOPLE_BY_KEY, SCHOOLS, TRUSTS
from cpd_gateway.directory.people import person_event
from cpd_gateway.directory.trusts import school_event
from cpd_gateway.identity import service as identity
from cpd_gateway.models import Account, ApiClient, Person, School, Trust

__all__ = ["DEMO_CREDENTIALS", "seed_demo"]

# One argon2 hash per distinct demo secret for the life of the process: argon2 is slow on
# purpose (about 0.2 s of CPU each), the demo's secrets are public, and the test suite seeds
# the demo into hundreds of fresh databases.
_hashes: dict[str, str] = {}


def _demo_hash(secret: str) -> str:
    if secret not in _hashes:
        _hashes[secret] = identity.hash_secret(secret)
    return _hashes[secret]


async def seed_demo(session: AsyncSession) -> bool:
    """Adds the demo trusts, schools, people, logins and API clients, with their directory
    events. Does nothing (returns False) when they are already there. Never commits."""
    if await session.scalar(select(Trust.id).where(Trust.id == TRUSTS[0]["id"])) is not None:
        return False
    for trust in TRUSTS:
        session.add(Trust(**trust))
    await session.flush()
    for data in SCHOOLS:
        school = School(**data)
        session.add(school)
        await session.flush()
        school_event(session, school)
    for p in PEOPLE:
        manager = PEOPLE_BY_KEY[p.line_manager].id if p.line_manager else None
        person = Person(
            id=p.id,
            trust_id=p.trust_id,
            name=p.name,
            email=p.email,
            school_ids=list(p.school_ids),
            staff_group=p.staff_group,
            department=p.department,
            career_stage=p.career_stage,
            fte=p.fte,
            start_date=p.start_date,
            line_manager_id=manager,
            roles=list(p.roles),
            active=True,
        )
        session.add(person)
        await session.flush()
        if p.email and p.password:
            session.add(
                Account(
                    person_id=person.id,
                    email=p.email.lower(),
                    password_hash=_demo_hash(p.password),
                    created_at=utcnow(),
                )
            )
        person_event(session, person)
    for c in CLIENTS:
        session.add(
            ApiClient(
                trust_id=c.trust_id,
                client_id=c.client_id,
                name=c.name,
                secret_hash=_demo_hash(c.secret),
                roles=list(c.roles),
                scopes=list(c.scopes),
            )
        )
    await session.flush()
    return True
