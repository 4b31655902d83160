"""``POST /auth/logout`` and a person's own sessions (``/v1/me/sessions``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from cpd_common.auth import Principal, PrincipalDep, principal_from_request
from cpd_common.db import SessionDep
from cpd_common.errors import Forbidden, Unprocessable, problems
from cpd_common.pagination import Page
from cpd_gateway.sessions import schemas, service

router = APIRouter(tags=["auth"])


def session_id_of(principal: Principal) -> uuid.UUID | None:
    """The session an access token was issued in (its ``sid`` claim), if any."""
    sid = principal.claims.get("sid")
    try:
        return uuid.UUID(str(sid)) if sid else None
    except ValueError:
        return None


def _person_id(principal: Principal) -> uuid.UUID:
    if principal.person_id is None:
        raise Forbidden("Only people have sessions.")
    return principal.person_id


@router.post(
    "/auth/logout",
    status_code=204,
    summary="End a session",
    description=(
        "Form-encoded `refresh_token` (any token of the session) and the `client_id` it was "
        "issued to, or just a bearer access token issued in the session: the session's refresh "
        "tokens stop working at once. Access tokens already issued run out within 15 minutes. "
        "Ending a session that is already over, or an unknown token, answers 204 as well."
    ),
    responses=problems(401, 422),
)
async def logout(
    request: Request,
    session: SessionDep,
    refresh_token: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
) -> Response:
    if refresh_token:
        await service.revoke_by_token(session, refresh_token, client_id=client_id)
        return Response(status_code=204)
    principal = await principal_from_request(request)
    sid = session_id_of(principal) if principal is not None else None
    if principal is None or principal.person_id is None or sid is None:
        raise Unprocessable(
            "Send the session's refresh_token, or an access token issued in a session.",
            errors=[{"loc": "body.refresh_token", "msg": "field required"}],
        )
    sign_in = await service.get_own(session, sid, person_id=principal.person_id)
    await service.revoke(session, sign_in, reason="logout")
    return Response(status_code=204)


@router.get(
    "/v1/me/sessions",
    response_model=Page[schemas.SessionRead],
    tags=["me"],
    summary="Your live sessions",
    description="Every front-end session you are signed in to; `current` marks this one.",
)
async def list_sessions(session: SessionDep, principal: PrincipalDep) -> Any:
    person_id = _person_id(principal)
    current = session_id_of(principal)
    items = []
    for row in await service.live_sessions(session, person_id):
        read = schemas.SessionRead.model_validate(row)
        read.current = row.id == current
        items.append(read)
    return Page[schemas.SessionRead](items=items)


@router.delete(
    "/v1/me/sessions/{session_id}",
    status_code=204,
    tags=["me"],
    summary="Sign out one of your sessions",
    responses=problems(404),
)
async def delete_session(
    session_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    sign_in = await service.get_own(session, session_id, person_id=_person_id(principal))
    await service.revoke(session, sign_in, reason="logout")
    return Response(status_code=204)
