"""The trust and its schools, and who changes the directory: trust admins, and for people
and groups also the trust's HR integration clients (through SCIM and the CSV import).
A school change publishes ``directory.school.upserted``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.errors import Forbidden
from cpd_common.events import catalogue
from cpd_gateway.directory import errors, schemas
from cpd_gateway.models import School, Trust

PROVISIONING_ROLE = "hr_integration"


def require_admin(principal: Principal) -> None:
    if not principal.is_trust_admin:
        raise Forbidden("Only a trust admin can change the directory.")


def is_provisioning_client(principal: Principal) -> bool:
    """An HR system's API client: it keeps the trust's people and groups in step."""
    return principal.client_id is not None and PROVISIONING_ROLE in principal.roles


def manages_people(principal: Principal) -> bool:
    return principal.is_trust_admin or is_provisioning_client(principal)


def require_people_manager(principal: Principal) -> None:
    if not manages_people(principal):
        raise Forbidden("Only a trust admin or the trust's HR integration can change people.")


async def get_trust(session: AsyncSession, trust_id: uuid.UUID, *, principal: Principal) -> Trust:
    trust = await session.get(Trust, trust_id)
    if trust is None or trust.id != principal.trust_id or principal.client_id:
        raise errors.TrustNotFound()
    return trust


async def update_trust(
    session: AsyncSession, trust: Trust, data: schemas.TrustUpdate, *, principal: Principal
) -> Trust:
    require_admin(principal)
    if data.name is not None:
        trust.name = data.name
    if data.deprovisioning is not None:
        trust.deprovisioning = data.deprovisioning
    await session.flush()
    return trust


def schools_query(*, principal: Principal) -> Select[Any]:
    return select(School).where(School.trust_id == principal.trust_id)


async def get_school(
    session: AsyncSession, school_id: uuid.UUID, *, principal: Principal
) -> School:
    school = await session.get(School, school_id)
    if school is None or school.trust_id != principal.trust_id:
        raise errors.SchoolNotFound()
    return school


def school_event(session: AsyncSession, school: School) -> None:
    events.add(
        session,
        catalogue.SchoolUpserted(
            school_id=school.id, trust_id=school.trust_id, name=school.name, phase=school.phase
        ),
    )


async def create_school(
    session: AsyncSession, data: schemas.SchoolCreate, *, principal: Principal
) -> School:
    require_admin(principal)
    school = School(trust_id=principal.trust_id, **data.model_dump())
    session.add(school)
    await session.flush()
    school_event(session, school)
    return school


async def update_school(
    session: AsyncSession, school: School, data: schemas.SchoolUpdate, *, principal: Principal
) -> School:
    require_admin(principal)
    for key, value in data.model_dump(exclude_unset=True).items():
        if key == "name" and value is None:
            continue
        setattr(school, key, value)
    school.updated_at = utcnow()
    await session.flush()
    school_event(session, school)
    return school
