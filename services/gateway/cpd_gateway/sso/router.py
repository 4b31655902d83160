"""Single sign-on: the trust's provider (``/v1/trusts/{id}/sso``, trust admins) and the
browser's way through it (``/auth/sso/authorize``, ``/auth/sso/callback``). The app then
exchanges its one-time code at ``POST /auth/token`` (``grant_type=authorization_code``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import resource_response
from cpd_gateway.sso import schemas, service

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get(
    "/v1/trusts/{trust_id}/sso",
    response_model=schemas.SsoConfigRead,
    tags=["single sign-on"],
    summary="Your trust's identity provider (trust admin)",
    description="The client secret is never answered (`client_secret_set`).",
    responses=problems(403, 404),
)
async def get_sso(
    trust_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    config = await service.get_config(session, trust_id, principal=principal)
    return resource_response(service.read(config, request.app.state.settings))


@router.put(
    "/v1/trusts/{trust_id}/sso",
    response_model=schemas.SsoConfigRead,
    tags=["single sign-on"],
    summary="Set your trust's identity provider (trust admin)",
    description=(
        "Creates (201) or replaces (200) the trust's OpenID Connect provider: `issuer`, the "
        "gateway's `client_id` and `client_secret` there (omit the secret to keep the stored "
        "one), `scopes`, the claim matched against people's `external_id`, and `enabled`. "
        "Register the answered `redirect_uri` at the provider. People are matched by "
        "external id, or by email when the provider says it is verified, in this trust only."
    ),
    responses=problems(403, 404, 422),
)
async def put_sso(
    trust_id: uuid.UUID,
    data: schemas.SsoConfigWrite,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    config, created = await service.put_config(
        session, trust_id, data, principal=principal, box=request.app.state.secret_box
    )
    return resource_response(
        service.read(config, request.app.state.settings),
        status_code=201 if created else 200,
        location=f"/v1/trusts/{trust_id}/sso" if created else None,
    )


@router.delete(
    "/v1/trusts/{trust_id}/sso",
    status_code=204,
    tags=["single sign-on"],
    summary="Remove your trust's identity provider (trust admin)",
    responses=problems(403, 404),
)
async def delete_sso(trust_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    config = await service.get_config(session, trust_id, principal=principal)
    await service.delete_config(session, config)
    return Response(status_code=204)


@router.get(
    "/auth/sso/authorize",
    status_code=302,
    tags=["auth"],
    summary="Sign in with your trust's identity provider",
    description=(
        "For single-page apps (authorization code flow with PKCE): send the browser here with "
        "`trust_id`, your app's `client_id`, a registered `redirect_uri`, your `state` and a "
        "`code_challenge` (S256). It is sent to the trust's provider and comes back to "
        "`redirect_uri` with `code` and `state`, or with `error` and `error_description`. "
        "Exchange the code within 60 seconds at `POST /auth/token` with "
        "`grant_type=authorization_code`, `code`, `code_verifier`, `client_id` and "
        "`redirect_uri`. A bad app or redirect URI is answered here (4xx), never redirected."
    ),
    responses=problems(401, 404, 422, 502),
)
async def authorize(
    request: Request,
    trust_id: Annotated[uuid.UUID, Query()],
    client_id: Annotated[str, Query(max_length=100)],
    redirect_uri: Annotated[str, Query(max_length=2000)],
    code_challenge: Annotated[str, Query(min_length=43, max_length=128, pattern=r"^[\w.~-]+$")],
    code_challenge_method: Annotated[str, Query(max_length=10)] = "S256",
    state: Annotated[str | None, Query(max_length=500)] = None,
) -> Any:
    # A GET that writes (the pending sign-in): its own transaction, committed before the
    # browser is sent on.
    async with request.app.state.sessionmaker() as session, session.begin():
        url = await service.start(
            session,
            trust_id=trust_id,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            client_state=state,
            settings=request.app.state.settings,
        )
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@router.get(
    service.CALLBACK_PATH,
    status_code=302,
    tags=["auth"],
    summary="Where the identity provider sends people back",
    description="Not for apps to call: register it at the provider as the redirect URI.",
    responses=problems(400),
)
async def callback(
    request: Request,
    state: Annotated[str | None, Query(max_length=500)] = None,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    async with request.app.state.sessionmaker() as session, session.begin():
        url = await service.answer(
            session,
            state=state,
            code=code,
            error=error,
            settings=request.app.state.settings,
            box=request.app.state.secret_box,
        )
    return RedirectResponse(url, status_code=302, headers=NO_STORE)
