"""Front-end sessions: rotating, one-use refresh tokens grouped in a session (a family).

A refresh token is exchanged once for a new access token and a new refresh token. Presenting a
token that was already exchanged means two parties hold it (a stolen copy, or a replay): the
whole session is revoked, so the thief's newer token dies too. Each session is bound to the
front-end app (``client_id``) that obtained it, and ends at the latest a fixed time after
sign-in however often it is refreshed. Only SHA-256 hashes of the tokens are stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.db import utcnow
from cpd_gateway.models import PasswordReset, Person, RefreshToken, SignInSession, SsoLogin
from cpd_gateway.sessions import errors
from cpd_gateway.settings import Settings

NOT_VALID = "The refresh token is not valid; sign in again."


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def check_client(settings: Settings, client_id: str | None) -> str:
    """The front-end app a session is for: one of ``settings.frontend_clients``."""
    if not client_id or client_id not in settings.frontend_clients:
        raise errors.UnknownClient("client_id is not a registered front-end app.")
    return client_id


def _new_token(
    session: AsyncSession, sign_in: SignInSession, *, settings: Settings, now: datetime
) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            session_id=sign_in.id,
            token_hash=token_hash(raw),
            created_at=now,
            expires_at=min(
                now + timedelta(seconds=settings.refresh_token_ttl_seconds), sign_in.expires_at
            ),
        )
    )
    return raw


async def start(
    session: AsyncSession, person: Person, *, client_id: str, method: str, settings: Settings
) -> tuple[SignInSession, str]:
    """A new session for ``person`` in ``client_id`` and its first refresh token."""
    now = utcnow()
    sign_in = SignInSession(
        trust_id=person.trust_id,
        person_id=person.id,
        client_id=client_id,
        method=method,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.session_max_seconds),
    )
    session.add(sign_in)
    await session.flush()
    raw = _new_token(session, sign_in, settings=settings, now=now)
    await session.flush()
    return sign_in, raw


async def _revoke(session: AsyncSession, sign_in: SignInSession, reason: str) -> None:
    if sign_in.revoked_at is None:
        sign_in.revoked_at = utcnow()
        sign_in.revoked_reason = reason
    await session.flush()


async def rotate(
    session: AsyncSession, raw: str, *, client_id: str | None, settings: Settings
) -> tuple[SignInSession, Person, str]:
    """Exchanges a refresh token for the next one of its session.

    Raises :class:`errors.SessionRevoked` after revoking the session when a spent token is
    replayed or the person may no longer sign in (the caller commits that revocation)."""
    row = (
        await session.execute(
            select(RefreshToken, SignInSession)
            .join(SignInSession, SignInSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == token_hash(raw))
            # Concurrent uses of one token queue here: the second sees it spent.
            .with_for_update(of=RefreshToken)
        )
    ).first()
    if row is None:
        raise errors.InvalidGrant(NOT_VALID)
    token, sign_in = row
    await session.refresh(sign_in, with_for_update=True)
    if sign_in.client_id != client_id:
        raise errors.InvalidGrant("This refresh token was issued to another client.")
    now = utcnow()
    if sign_in.revoked_at is not None or sign_in.expires_at <= now:
        raise errors.InvalidGrant("The session has ended; sign in again.")
    if token.used_at is not None:
        await _revoke(session, sign_in, "reuse")
        raise errors.SessionRevoked(
            "This refresh token was already used; the session is revoked. Sign in again."
        )
    if token.expires_at <= now:
        raise errors.InvalidGrant(NOT_VALID)
    person = await session.get(Person, sign_in.person_id)
    if person is None or not person.active or person.erased_at is not None:
        await _revoke(session, sign_in, "deactivated")
        raise errors.SessionRevoked("This person can no longer sign in.")
    token.used_at = now
    sign_in.last_used_at = now
    new_raw = _new_token(session, sign_in, settings=settings, now=now)
    await session.flush()
    return sign_in, person, new_raw


async def revoke_by_token(session: AsyncSession, raw: str, *, client_id: str | None) -> bool:
    """Logout with a refresh token (any of the family, spent or not). False: unknown token."""
    sign_in = await session.scalar(
        select(SignInSession)
        .join(RefreshToken, RefreshToken.session_id == SignInSession.id)
        .where(RefreshToken.token_hash == token_hash(raw))
    )
    if sign_in is None:
        return False
    if sign_in.client_id != client_id:
        raise errors.InvalidGrant("This refresh token was issued to another client.")
    await _revoke(session, sign_in, "logout")
    return True


async def get_own(
    session: AsyncSession, session_id: uuid.UUID, *, person_id: uuid.UUID
) -> SignInSession:
    sign_in = await session.get(SignInSession, session_id)
    if sign_in is None or sign_in.person_id != person_id:
        raise errors.SessionNotFound()
    return sign_in


async def revoke(session: AsyncSession, sign_in: SignInSession, *, reason: str) -> None:
    await _revoke(session, sign_in, reason)


async def revoke_all(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    reason: str,
    keep: uuid.UUID | None = None,
) -> int:
    """Revokes every live session of a person (but ``keep``); returns how many."""
    stmt = (
        update(SignInSession)
        .where(SignInSession.person_id == person_id, SignInSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(SignInSession.id != keep)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def live_sessions(session: AsyncSession, person_id: uuid.UUID) -> list[SignInSession]:
    return list(
        (
            await session.scalars(
                select(SignInSession)
                .where(
                    SignInSession.person_id == person_id,
                    SignInSession.revoked_at.is_(None),
                    SignInSession.expires_at > utcnow(),
                )
                .order_by(SignInSession.id)
            )
        ).all()
    )


# Ended sessions, used or expired resets and finished single sign-ons are kept this long (for
# support questions), then forgotten by the worker's hourly housekeeping.
KEEP_ENDED = timedelta(days=7)


async def prune_ended(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Deletes what can no longer be used: sessions past their end or revoked (their refresh
    tokens go with them), password resets and single sign-ons that are over."""
    cutoff = (now or utcnow()) - KEEP_ENDED
    removed = 0
    for stmt in (
        delete(SignInSession).where(
            or_(SignInSession.expires_at < cutoff, SignInSession.revoked_at < cutoff)
        ),
        delete(PasswordReset).where(
            or_(PasswordReset.expires_at < cutoff, PasswordReset.used_at < cutoff)
        ),
        delete(SsoLogin).where(
            SsoLogin.expires_at < cutoff,
            or_(SsoLogin.code_expires_at.is_(None), SsoLogin.code_expires_at < cutoff),
        ),
    ):
        result = await session.execute(stmt.execution_options(synchronize_session=False))
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed
