"""Lookups in the service's directory projection (people and schools of a trust)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.models import Person, School


async def school_in_trust(session: AsyncSession, school_id: uuid.UUID, trust_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(School.id).where(School.id == school_id, School.trust_id == trust_id)
    )
    return found is not None


async def person_in_trust(
    session: AsyncSession, person_id: uuid.UUID, trust_id: uuid.UUID
) -> Person | None:
    return await session.scalar(
        select(Person).where(Person.id == person_id, Person.trust_id == trust_id)
    )
