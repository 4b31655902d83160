"""What the planning aggregates (needs, alignment plans, CPD plans, career plans) share: who
leads a school, academic years and months, and erasure of a
person's planning data."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.models import Person, School
from cpd_audit.models_planning import CareerPlan, CareerPlanShare, CpdPlanRow, Need
from cpd_common.auth import PERSON_ROLES, Principal
from cpd_common.errors import Forbidden

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def leads_school(principal: Principal, school_id: uuid.UUID | None) -> bool:
    """Trust admins lead every school of their trust; school leaders their own schools."""
    if principal.is_trust_admin:
        return True
    return (
        "school_leader" in principal.roles
        and school_id is not None
        and school_id in principal.school_ids
    )


def led_school_ids(principal: Principal) -> list[uuid.UUID]:
    return list(principal.school_ids) if "school_leader" in principal.roles else []


def require_person(principal: Principal) -> uuid.UUID:
    """Personal resources need a person behind the token (not an API client)."""
    if principal.person_id is None or not principal.has_any(*PERSON_ROLES):
        raise Forbidden("Only people (not API clients) have this resource.")
    return principal.person_id


def require_planning_role(principal: Principal) -> None:
    if not principal.has_any(*PERSON_ROLES):
        raise Forbidden("Your role does not allow this.")


def academic_year(start_year: int) -> str:
    """``2026`` -> ``"2026/27"`` (an English school year runs September to August)."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def parse_month(value: str) -> date:
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def format_month(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def in_academic_year(month: date, start_year: int) -> bool:
    return date(start_year, 9, 1) <= month <= date(start_year + 1, 8, 1)


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


async def erase_person_plans(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Right to erasure: the person's career plans (and their shares), the shares they hold
    as a mentor and their individual needs go; where they are only named (who recorded a
    need, who is responsible for a planned activity) the reference is cleared."""
    await session.execute(delete(CareerPlanShare).where(CareerPlanShare.mentor_id == person_id))
    await session.execute(delete(CareerPlan).where(CareerPlan.owner_id == person_id))
    await session.execute(
        delete(Need).where(Need.level == "individual", Need.person_id == person_id)
    )
    await session.execute(
        update(Need).where(Need.recorded_by == person_id).values(recorded_by=None)
    )
    await session.execute(
        update(CpdPlanRow)
        .where(CpdPlanRow.responsible_person_id == person_id)
        .values(responsible_person_id=None)
    )
