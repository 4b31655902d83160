"""``GET /v1/me``, ``POST /v1/me/password``, ``POST /v1/people/{id}/password-reset`` (trust
admin) and ``POST /auth/password-reset`` (the person, with the admin's one-time token)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_gateway.account import errors, schemas, service
from cpd_gateway.directory import people as people_service
from cpd_gateway.identity.throttle import LoginThrottle
from cpd_gateway.sessions.router import session_id_of

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get(
    "/v1/me",
    response_model=schemas.MeRead,
    tags=["me"],
    summary="Who you are",
    description=(
        "The caller as the directory knows them now: name, trust, schools, roles, and the "
        "capabilities (`permissions`) those roles grant, for a front-end to show what the API "
        "would allow. API clients get `kind: client` with their roles."
    ),
    responses=problems(401, 403),
)
async def get_me(session: SessionDep, principal: PrincipalDep) -> Any:
    me = await service.me(session, principal=principal, session_id=session_id_of(principal))
    return JSONResponse(me.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.post(
    "/v1/me/password",
    status_code=204,
    tags=["me"],
    summary="Change your password",
    description=(
        "Needs your current password (403 when it is not right; repeated failures answer 429 "
        "like sign-ins). Every other session of yours ends; this one stays."
    ),
    responses=problems(403, 409, 422, 429),
)
async def change_password(
    data: schemas.PasswordChange, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    account = await service.own_account(session, principal=principal)
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    throttle.check(account=account.email, address=address)
    try:
        await service.change_password(session, account, data, keep_session=session_id_of(principal))
    except errors.WrongPassword:
        throttle.failed(account=account.email, address=address)
        raise
    throttle.succeeded(account=account.email)
    return Response(status_code=204)


@router.post(
    "/v1/people/{person_id}/password-reset",
    response_model=schemas.PasswordResetIssued,
    tags=["directory"],
    summary="Reset a person's password (trust admin)",
    description=(
        "Answers a one-time `reset_token` (shown once, valid 24 hours) to hand to the person, "
        "who sets a new password with `POST /auth/password-reset`. At once: their old password "
        "stops working, every session of theirs ends, and an earlier unused reset is void."
    ),
    responses=problems(403, 404, 409, 422),
)
async def reset_password(
    person_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Any:
    person = await people_service.get_person(session, person_id, principal=principal)
    reset, raw = await service.issue_reset(
        session,
        person,
        principal=principal,
        ttl_seconds=request.app.state.settings.password_reset_ttl_seconds,
    )
    body = schemas.PasswordResetIssued(
        person_id=person.id, reset_token=raw, expires_at=reset.expires_at
    )
    return JSONResponse(body.model_dump(mode="json"), headers=NO_STORE)


@router.post(
    "/auth/password-reset",
    status_code=204,
    tags=["auth"],
    summary="Set a new password with a reset token",
    description="The token works once and until it expires; 401 otherwise.",
    responses=problems(401, 422),
)
async def redeem_reset(data: schemas.PasswordResetRedeem, session: SessionDep) -> Response:
    await service.redeem_reset(session, data)
    return Response(status_code=204)
