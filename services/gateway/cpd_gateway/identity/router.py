"""``POST /auth/token``, ``GET /.well-known/jwks.json``.

Rotating the signing key is an operator action (``python -m cpd_gateway.rotate_key``), never an
API call: the key is the platform's, shared by every trust."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cpd_common.db import SessionDep
from cpd_common.errors import Unauthorized, Unprocessable, error_response, problems
from cpd_gateway.identity import keys, service
from cpd_gateway.identity.throttle import LoginThrottle
from cpd_gateway.sessions import errors as session_errors
from cpd_gateway.sessions import service as sessions
from cpd_gateway.sso import service as sso

router = APIRouter(tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str = ""
    refresh_token: str | None = None


def _basic_client(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


@asynccontextmanager
async def throttled(request: Request, *, account: str) -> AsyncIterator[None]:
    """Refuses (429) before checking a password when the account or the caller's address has
    failed too often lately, and counts this attempt's failure."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    throttle.check(account=account, address=address)
    try:
        yield
    except Unauthorized:
        throttle.failed(account=account, address=address)
        raise
    throttle.succeeded(account=account, address=address)


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    summary="Get an access token",
    description=(
        "OAuth2 token endpoint (form-encoded). `grant_type=password` with `username` (email) "
        "and `password` for people; `grant_type=client_credentials` with `client_id` and "
        "`client_secret` (or HTTP Basic) for API clients, optionally narrowing `scope`. "
        "Tokens are JWTs valid for 15 minutes. Wrong credentials answer 401, the same for an "
        "unknown user as for a wrong password. Repeated failures for one account or from one "
        "address answer 429 with `Retry-After` for a while, before any password is checked.\n\n"
        "Front-end apps send their `client_id` with `grant_type=password` and also get a "
        "`refresh_token`: `grant_type=refresh_token` with `refresh_token` and the same "
        "`client_id` exchanges it, once, for a new access token and a new refresh token. "
        "Replaying a refresh token that was already exchanged revokes the whole session "
        "(401). `POST /auth/logout` ends a session. `grant_type=authorization_code` exchanges "
        "the one-time code of a single sign-on (`GET /auth/sso/authorize`) with `code`, "
        "`code_verifier`, `client_id` and `redirect_uri`. See docs/api-conventions.md."
    ),
    responses={
        401: {"description": "Credentials not valid"},
        **problems(429, described={429: "Too many failed sign-ins: wait `Retry-After` seconds"}),
    },
)
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form()],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
) -> Any:
    settings = request.app.state.settings
    refresh: str | None = None
    if grant_type == "password":
        if not username or not password:
            raise Unprocessable(
                "username and password are required for grant_type=password.",
                errors=[
                    {"loc": f"body.{f}", "msg": "field required"}
                    for f, v in (("username", username), ("password", password))
                    if not v
                ],
            )
        if client_id is not None:
            sessions.check_client(settings, client_id)
        async with throttled(request, account=username):
            person = await service.authenticate_person(session, email=username, password=password)
        claims = service.person_claims(person)
        if client_id is not None:
            # A front-end app: the sign-in starts a session with a refresh token.
            sign_in, refresh = await sessions.start(
                session, person, client_id=client_id, method="password", settings=settings
            )
            claims["sid"] = str(sign_in.id)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise Unprocessable(
                "refresh_token is required for grant_type=refresh_token.",
                errors=[{"loc": "body.refresh_token", "msg": "field required"}],
            )
        try:
            sign_in, person, refresh = await sessions.rotate(
                session, refresh_token, client_id=client_id, settings=settings
            )
        except session_errors.SessionRevoked as exc:
            # Answered, not raised: the revocation of the session must be committed.
            return error_response(exc, request=request)
        claims = {**service.person_claims(person), "sid": str(sign_in.id)}
    elif grant_type == "authorization_code":
        # The one-time code of a single sign-on (GET /auth/sso/authorize).
        if not code:
            raise Unprocessable(
                "code is required for grant_type=authorization_code.",
                errors=[{"loc": "body.code", "msg": "field required"}],
            )
        try:
            sign_in, person, refresh = await sso.redeem(
                session,
                code=code,
                code_verifier=code_verifier,
                client_id=client_id,
                redirect_uri=redirect_uri,
                settings=settings,
            )
        except session_errors.SessionRevoked as exc:
            return error_response(exc, request=request)
        claims = {**service.person_claims(person), "sid": str(sign_in.id)}
    elif grant_type == "client_credentials":
        basic = _basic_client(request)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or not client_secret:
            raise Unauthorized("client_id and client_secret are required.")
        requested = scope.split() if scope else None
        async with throttled(request, account=f"client:{client_id}"):
            client, granted = await service.authenticate_client(
                session, client_id=client_id, secret=client_secret, requested=requested
            )
        claims = service.client_claims(client, granted)
    else:
        raise Unprocessable(
            "grant_type must be password, refresh_token, authorization_code or client_credentials.",
            errors=[{"loc": "body.grant_type", "msg": "unsupported grant type"}],
        )
    access_token, ttl = await keys.sign(
        request.app.state.keyring,
        claims,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=settings.token_ttl_seconds,
    )
    return JSONResponse(
        TokenResponse(
            access_token=access_token, expires_in=ttl, scope=claims["scope"], refresh_token=refresh
        ).model_dump(exclude_none=True),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.get(
    "/.well-known/jwks.json",
    summary="Public signing keys",
    description="The JSON Web Key Set services use to verify access tokens.",
)
async def jwks(request: Request) -> Any:
    return JSONResponse(
        await request.app.state.keyring.jwks(), headers={"Cache-Control": "public, max-age=60"}
    )
