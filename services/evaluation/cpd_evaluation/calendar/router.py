"""``/v1/calendar``: the CPD calendar as JSON, and secret iCalendar feeds for calendar
clients (which cannot send bearer tokens)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Response

from cpd_common.auth import PrincipalDep, require_roles
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.idempotency import api_router
from cpd_evaluation.calendar import schemas, service
from cpd_evaluation.calendar.schemas import Scope

router = api_router("/v1/calendar", "calendar")
staff = [Depends(require_roles("staff", "school_leader", "trust_admin"))]
ICS = "text/calendar; charset=utf-8"
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {"schema": {"type": "string"}}}},
    **problems(404, described={404: "Unknown, rotated or revoked feed token."}),
}


@router.get(
    "",
    response_model=schemas.Calendar,
    summary="The CPD calendar",
    description="`scope=me` (default): what you are booked on or take part in; "
    "`scope=school&school_id=`: runs open to a school's staff; `scope=trust`: the trust's "
    "whole offer. `from`/`to` (default: the last month and the next year).",
    dependencies=staff,
    responses=problems(404, described={404: "No such school among yours."}),
)
async def calendar(
    session: SessionDep,
    principal: PrincipalDep,
    scope: Scope = "me",
    school_id: uuid.UUID | None = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Any:
    return await service.calendar_for(
        session, principal, scope=scope, school_id=school_id, start=start, end=end
    )


@router.post(
    "/feed",
    response_model=schemas.FeedUrls,
    summary="Create or rotate your secret feed addresses",
    description="The token is shown once; the previous one stops working at once.",
    dependencies=staff,
)
async def rotate_feed(session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.rotate_feed(session, principal)


@router.delete("/feed", status_code=204, summary="Revoke your calendar feed", dependencies=staff)
async def revoke_feed(session: SessionDep, principal: PrincipalDep) -> Response:
    await service.revoke_feed(session, principal)
    return Response(status_code=204)


@router.get(
    "/feeds/{token}/me.ics",
    summary="Your CPD as iCalendar",
    response_class=Response,
    responses=FEED_RESPONSES,
)
async def my_feed(token: Token, session: SessionDep) -> Response:
    body = await service.feed(session, token, scope="me", school_id=None)
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/feeds/{token}/trust.ics",
    summary="The trust's offer as iCalendar",
    response_class=Response,
    responses=FEED_RESPONSES,
)
async def trust_feed(token: Token, session: SessionDep) -> Response:
    body = await service.feed(session, token, scope="trust", school_id=None)
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})


@router.get(
    "/feeds/{token}/schools/{school_id}.ics",
    summary="A school's CPD calendar as iCalendar",
    response_class=Response,
    responses=FEED_RESPONSES,
)
async def school_feed(token: Token, school_id: uuid.UUID, session: SessionDep) -> Response:
    body = await service.feed(session, token, scope="school", school_id=school_id)
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})
