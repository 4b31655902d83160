"""Single sign-on with a trust's OpenID Connect provider, the gateway being its client.

A single-page app cannot keep a client secret, so it never talks to the provider itself:

1. The app sends the person to ``GET /auth/sso/authorize`` with its ``client_id``, a
   registered ``redirect_uri``, its own ``state`` and a PKCE ``code_challenge`` (S256).
2. The gateway sends them on to the trust's provider (authorization code flow, with its own
   ``state``, ``nonce`` and PKCE verifier, all kept server-side).
3. The provider sends them back to ``/auth/sso/callback``; the gateway exchanges the code
   (with its client secret and verifier), checks the ID token (signature, issuer, audience,
   expiry, nonce) and finds the person: by ``external_id`` or, when the provider says the email
   is verified, by email, **within that trust only** (a match in another trust is no match).
4. The app gets a one-time code (60 s) on its redirect URI and exchanges it at
   ``POST /auth/token`` (``grant_type=authorization_code`` with its ``code_verifier``) for an
   access token and a refresh token, like a password sign-in.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, utcnow
from cpd_common.errors import Conflict, Forbidden, Unprocessable
from cpd_gateway.models import Person, SignInSession, SsoConfig, SsoLogin
from cpd_gateway.secret_box import SecretBox
from cpd_gateway.sessions import errors as session_errors
from cpd_gateway.sessions import service as sessions
from cpd_gateway.settings import Settings
from cpd_gateway.sso import errors, provider, schemas

CALLBACK_PATH = "/auth/sso/callback"
NO_MATCH = "No person of this trust matches this identity."


def callback_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + CALLBACK_PATH


# ---- configuration (trust admins) ------------------------------------------------------------


def _require_admin_of(principal: Principal, trust_id: uuid.UUID) -> None:
    if principal.trust_id != trust_id or principal.client_id is not None:
        raise errors.SsoNotConfigured()
    if not principal.is_trust_admin:
        raise Forbidden("Only a trust admin configures single sign-on.")


async def get_config(
    session: AsyncSession, trust_id: uuid.UUID, *, principal: Principal
) -> SsoConfig:
    _require_admin_of(principal, trust_id)
    config = await session.scalar(select(SsoConfig).where(SsoConfig.trust_id == trust_id))
    if config is None:
        raise errors.SsoNotConfigured("This trust has no single sign-on configured.")
    return config


async def put_config(
    session: AsyncSession,
    trust_id: uuid.UUID,
    data: schemas.SsoConfigWrite,
    *,
    principal: Principal,
    box: SecretBox,
) -> tuple[SsoConfig, bool]:
    """Creates or replaces the trust's provider; True when it was created."""
    _require_admin_of(principal, trust_id)
    config = await session.scalar(
        select(SsoConfig).where(SsoConfig.trust_id == trust_id).with_for_update()
    )
    created = config is None
    if config is None:
        if not data.client_secret:
            raise Unprocessable(
                "The client secret is required the first time.",
                errors=[{"loc": "body.client_secret", "msg": "field required"}],
            )
        config = SsoConfig(trust_id=trust_id, client_secret_encrypted=box.seal(data.client_secret))
        session.add(config)
    elif data.client_secret:
        config.client_secret_encrypted = box.seal(data.client_secret)
    config.issuer = data.issuer
    config.client_id = data.client_id
    config.scopes = list(data.scopes)
    config.external_id_claim = data.external_id_claim
    config.enabled = data.enabled
    config.updated_at = utcnow()
    async with one_of_a_kind(session, Conflict("Single sign-on was configured meanwhile.")):
        await session.flush()
    return config, created


async def delete_config(session: AsyncSession, config: SsoConfig) -> None:
    await session.delete(config)
    await session.flush()


def read(config: SsoConfig, settings: Settings) -> schemas.SsoConfigRead:
    return schemas.SsoConfigRead(
        trust_id=config.trust_id,
        issuer=config.issuer,
        client_id=config.client_id,
        scopes=list(config.scopes),
        external_id_claim=config.external_id_claim,
        enabled=config.enabled,
        redirect_uri=callback_url(settings),
        updated_at=config.updated_at,
    )


# ---- the sign-in ------------------------------------------------------------------------------


def _check_app(settings: Settings, client_id: str, redirect_uri: str) -> None:
    sessions.check_client(settings, client_id)
    if redirect_uri not in settings.frontend_clients[client_id]:
        raise errors.BadRedirect(
            "redirect_uri is not registered for this app.",
            errors=[{"loc": "query.redirect_uri", "msg": "not registered for this client"}],
        )


async def start(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID,
    client_id: str,
    redirect_uri: str,
    code_challenge: str,
    code_challenge_method: str,
    client_state: str | None,
    settings: Settings,
) -> str:
    """Records the sign-in and answers the provider's authorization URL to send the person to.
    Every problem here is a 4xx answer: nothing is redirected before the app is checked."""
    _check_app(settings, client_id, redirect_uri)
    if code_challenge_method != "S256":
        raise Unprocessable(
            "Only PKCE with S256 is accepted.",
            errors=[{"loc": "query.code_challenge_method", "msg": "must be S256"}],
        )
    config = await session.scalar(
        select(SsoConfig).where(SsoConfig.trust_id == trust_id, SsoConfig.enabled.is_(True))
    )
    if config is None:
        raise errors.SsoNotConfigured("This trust has no single sign-on.")
    try:
        doc = await provider.metadata(config.issuer, timeout=settings.sso_http_timeout_seconds)
    except errors.SignInRefused as exc:
        raise errors.ProviderUnavailable(exc.description) from exc
    state, nonce, verifier = generate_token(43), generate_token(32), generate_token(64)
    now = utcnow()
    session.add(
        SsoLogin(
            trust_id=trust_id,
            state_hash=sessions.token_hash(state),
            nonce=nonce,
            code_verifier=verifier,
            client_id=client_id,
            redirect_uri=redirect_uri,
            client_state=client_state,
            code_challenge=code_challenge,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.sso_login_ttl_seconds),
        )
    )
    await session.flush()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": callback_url(settings),
            "scope": " ".join(config.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    endpoint = doc["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def app_redirect(login: SsoLogin, **params: str) -> str:
    if login.client_state is not None:
        params["state"] = login.client_state
    sep = "&" if "?" in login.redirect_uri else "?"
    return f"{login.redirect_uri}{sep}{urlencode(params)}"


async def answer(
    session: AsyncSession,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    settings: Settings,
    box: SecretBox,
) -> str:
    """The provider's answer: the URL to send the person back to in the app, with a one-time
    code, or with ``error`` and ``error_description`` when nobody is signed in."""
    login = None
    if state:
        login = await session.scalar(
            select(SsoLogin)
            .where(SsoLogin.state_hash == sessions.token_hash(state))
            .with_for_update()
        )
    if login is None or login.answered_at is not None:
        raise errors.SsoLoginNotValid("This sign-in is unknown or was already answered.")
    login.answered_at = utcnow()
    try:
        if login.expires_at <= login.answered_at:
            raise errors.SignInRefused("The sign-in took too long; start again.")
        if error or not code:
            raise errors.SignInRefused("The identity provider did not sign you in.")
        person = await _verified_person(session, login, code=code, settings=settings, box=box)
    except errors.SignInRefused as refused:
        await session.flush()
        return app_redirect(login, error=refused.error, error_description=refused.description)
    raw = secrets.token_urlsafe(32)
    login.person_id = person.id
    login.code_hash = sessions.token_hash(raw)
    login.code_expires_at = utcnow() + timedelta(seconds=settings.sso_code_ttl_seconds)
    await session.flush()
    return app_redirect(login, code=raw)


async def _verified_person(
    session: AsyncSession, login: SsoLogin, *, code: str, settings: Settings, box: SecretBox
) -> Person:
    config = await session.scalar(
        select(SsoConfig).where(SsoConfig.trust_id == login.trust_id, SsoConfig.enabled.is_(True))
    )
    if config is None:
        raise errors.SignInRefused("Single sign-on is no longer configured for this trust.")
    timeout = settings.sso_http_timeout_seconds
    doc = await provider.metadata(config.issuer, timeout=timeout)
    id_token = await provider.exchange_code(
        doc,
        code=code,
        redirect_uri=callback_url(settings),
        code_verifier=login.code_verifier,
        client_id=config.client_id,
        client_secret=box.open(config.client_secret_encrypted),
        timeout=timeout,
    )
    claims = await provider.verify_id_token(
        doc,
        id_token,
        issuer=config.issuer,
        client_id=config.client_id,
        nonce=login.nonce,
        timeout=timeout,
    )
    person = await match_person(session, config, claims)
    if person is None:
        raise errors.SignInRefused(NO_MATCH)
    return person


async def match_person(
    session: AsyncSession, config: SsoConfig, claims: dict[str, object]
) -> Person | None:
    """The trust's active person with the identity's external id, else with its email when
    the provider vouches for it. Only this trust's people are ever looked at."""
    in_trust = select(Person).where(
        Person.trust_id == config.trust_id,
        Person.active.is_(True),
        Person.erased_at.is_(None),
    )
    external_id = claims.get(config.external_id_claim)
    if isinstance(external_id, str) and external_id:
        person = await session.scalar(in_trust.where(Person.external_id == external_id))
        if person is not None:
            return person
    email = claims.get("email")
    if claims.get("email_verified") is True and isinstance(email, str) and email:
        return await session.scalar(
            in_trust.where(func.lower(Person.email) == email.strip().lower())
        )
    return None


async def redeem(
    session: AsyncSession,
    *,
    code: str,
    code_verifier: str | None,
    client_id: str | None,
    redirect_uri: str | None,
    settings: Settings,
) -> tuple[SignInSession, Person, str]:
    """The app's one-time code (with its PKCE verifier) for a session. A second use of a code
    revokes the session the first one started."""
    login = await session.scalar(
        select(SsoLogin).where(SsoLogin.code_hash == sessions.token_hash(code)).with_for_update()
    )
    not_valid = "The authorization code is not valid; sign in again."
    if login is None or login.person_id is None:
        raise session_errors.InvalidGrant(not_valid)
    if login.used_at is not None:
        if login.session_id is not None:
            sign_in = await session.get(SignInSession, login.session_id)
            if sign_in is not None:
                await sessions.revoke(session, sign_in, reason="reuse")
        raise session_errors.SessionRevoked("This authorization code was already used.")
    if login.code_expires_at is None or login.code_expires_at <= utcnow():
        raise session_errors.InvalidGrant(not_valid)
    if login.client_id != client_id or login.redirect_uri != redirect_uri:
        raise session_errors.InvalidGrant("The code was issued to another client or redirect_uri.")
    if not code_verifier or not hmac.compare_digest(
        create_s256_code_challenge(code_verifier), login.code_challenge
    ):
        raise session_errors.InvalidGrant("code_verifier does not match the code_challenge.")
    person = await session.get(Person, login.person_id)
    if person is None or not person.active or person.erased_at is not None:
        raise session_errors.InvalidGrant("This person can no longer sign in.")
    login.used_at = utcnow()
    sign_in, refresh = await sessions.start(
        session, person, client_id=login.client_id, method="sso", settings=settings
    )
    login.session_id = sign_in.id
    await session.flush()
    return sign_in, person, refresh
