"""What a group may be attached to: schools of the caller's trust (one of them the caller's
own, unless a trust admin) and needs of the trust's register."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_lessonstudy.groups.errors import InvalidGroup
from cpd_lessonstudy.models import KnownNeed, School


async def check_schools(
    session: AsyncSession, school_ids: list[uuid.UUID], *, principal: Principal, noun: str
) -> None:
    known = set(
        (
            await session.scalars(
                select(School.id).where(
                    School.id.in_(school_ids), School.trust_id == principal.trust_id
                )
            )
        ).all()
    )
    unknown = [s for s in school_ids if s not in known]
    if unknown:
        raise InvalidGroup(
            "Every school must be a school of your trust.",
            errors=[{"loc": "body.school_ids", "msg": f"unknown school {s}"} for s in unknown],
        )
    if not principal.is_trust_admin and principal.school_ids.isdisjoint(school_ids):
        raise InvalidGroup(
            f"A {noun} must include one of your own schools.",
            errors=[{"loc": "body.school_ids", "msg": "none of these schools is yours"}],
        )


async def check_needs(
    session: AsyncSession, need_ids: list[uuid.UUID], *, trust_id: uuid.UUID
) -> None:
    """Needs come from the audit service's register (``audit.need.recorded``)."""
    if not need_ids:
        return
    known = set(
        (
            await session.scalars(
                select(KnownNeed.id).where(
                    KnownNeed.id.in_(need_ids), KnownNeed.trust_id == trust_id
                )
            )
        ).all()
    )
    unknown = [n for n in need_ids if n not in known]
    if unknown:
        raise InvalidGroup(
            "Every need must be a need of your trust's register (GET /v1/needs). A need recorded "
            "a moment ago may take a second to arrive here.",
            errors=[{"loc": "body.need_ids", "msg": f"unknown need {n}"} for n in unknown],
        )
