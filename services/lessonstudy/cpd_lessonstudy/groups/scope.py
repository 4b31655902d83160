"""What a group may be attached to: schools of the caller's trust (one of them the caller's
own, unless a trust admin) and needs of the trust's register."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import directory
from cpd_common.auth import Principal
from cpd_common.db import known_ids
from cpd_lessonstudy.groups.errors import InvalidGroup
from cpd_lessonstudy.models import KnownNeed, School


async def check_schools(
    session: AsyncSession, school_ids: list[uuid.UUID], *, principal: Principal, noun: str
) -> None:
    await directory.check_schools(
        session, School, school_ids, principal=principal, invalid=InvalidGroup, what=f"A {noun}"
    )


async def check_needs(
    session: AsyncSession, need_ids: list[uuid.UUID], *, trust_id: uuid.UUID
) -> None:
    """Needs come from the audit service's register (``audit.need.recorded``)."""
    if not need_ids:
        return
    known = await known_ids(session, KnownNeed.id, need_ids, KnownNeed.trust_id == trust_id)
    unknown = [n for n in need_ids if n not in known]
    if unknown:
        raise InvalidGroup(
            "Every need must be a need of your trust's register (GET /v1/needs). A need recorded "
            "a moment ago may take a second to arrive here.",
            errors=[{"loc": "body.need_ids", "msg": f"unknown need {n}"} for n in unknown],
        )
