"""How an enquiry's records are written: by a member (the enquiry locked), in a stage it has
reached, about what has already happened, authored by a membership (never a name)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_lessonstudy.enquiries import service as enquiries
from cpd_lessonstudy.enquiries import stages as enquiry_progress
from cpd_lessonstudy.enquiries.errors import InvalidEnquiry
from cpd_lessonstudy.groups.access import ENQUIRY, Access, get_access
from cpd_lessonstudy.models.enquiries import Enquiry

Names = dict[uuid.UUID, str]


def today() -> date:
    return datetime.now(UTC).date()


def not_future(value: date, loc: str) -> None:
    if value > today():
        raise InvalidEnquiry(
            "Record what has happened: the date is in the future.",
            errors=[{"loc": f"body.{loc}", "msg": "must not be in the future"}],
        )


async def writable(
    session: AsyncSession,
    enquiry_id: uuid.UUID,
    principal: Principal,
    *,
    stage: str | None = None,
    action: str = "",
    after_completion: bool = False,
) -> Access[Enquiry]:
    access = await get_access(session, ENQUIRY, enquiry_id, principal=principal, write=True)
    if not after_completion:
        enquiries.ensure_open(access.group)
    if stage is not None:
        await enquiry_progress.ensure_stage(session, access.group, stage, action)
    return access


def authored(obj: Any, names: Names) -> dict[str, Any]:
    rid = obj.recorded_by
    return {
        "recorded_by": rid,
        "recorded_by_name": names.get(rid, "Unknown") if rid is not None else None,
        "created_at": obj.created_at,
    }
