"""Who the caller is (``/v1/me``), changing one's own password, and a trust admin's one-time
password reset (which ends the person's sessions and their old password at once)."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.permissions import capabilities
from cpd_gateway.account import errors, schemas
from cpd_gateway.directory import errors as directory_errors
from cpd_gateway.identity import passwords
from cpd_gateway.identity import service as identity
from cpd_gateway.models import Account, ApiClient, PasswordReset, Person, School, Trust
from cpd_gateway.sessions import service as sessions

# Stored instead of a hash after an admin's reset: no password matches it.
NO_PASSWORD = "!reset"


async def me(
    session: AsyncSession, *, principal: Principal, session_id: uuid.UUID | None
) -> schemas.MeRead:
    trust = await session.get(Trust, principal.trust_id)
    if trust is None:
        raise Forbidden("Your trust no longer exists.")
    if principal.client_id is not None:
        client = await session.scalar(
            select(ApiClient).where(
                ApiClient.client_id == principal.client_id,
                ApiClient.trust_id == principal.trust_id,
            )
        )
        if client is None:
            raise Forbidden("This API client no longer exists.")
        roles = sorted(client.roles or [])
        return schemas.MeRead(
            kind="client",
            id=client.id,
            name=client.name,
            client_id=client.client_id,
            trust=schemas.Named(id=trust.id, name=trust.name),
            schools=[],
            roles=roles,
            permissions=capabilities(roles),
        )
    person = await session.get(Person, principal.person_id)
    if person is None or person.trust_id != principal.trust_id or person.erased_at is not None:
        raise Forbidden("You are no longer in the directory.")
    schools = (
        await session.scalars(
            select(School)
            .where(School.trust_id == person.trust_id, School.id.in_(person.school_ids or []))
            .order_by(School.name, School.id)
        )
    ).all()
    roles = sorted(person.roles or [])
    account = await session.get(Account, person.id)
    return schemas.MeRead(
        kind="person",
        id=person.id,
        name=person.name,
        email=person.email,
        trust=schemas.Named(id=trust.id, name=trust.name),
        schools=[schemas.Named(id=s.id, name=s.name) for s in schools],
        roles=roles,
        permissions=capabilities(roles),
        has_password=account is not None and account.password_hash != NO_PASSWORD,
        session_id=session_id,
    )


async def own_account(session: AsyncSession, *, principal: Principal) -> Account:
    if principal.person_id is None:
        raise Forbidden("API clients have no password to change.")
    account = await session.get(Account, principal.person_id, with_for_update=True)
    if account is None or account.password_hash == NO_PASSWORD:
        raise errors.NoLocalPassword(
            "You have no password here (you sign in with your organisation, or an admin reset "
            "it): use the reset your trust admin gives you."
        )
    return account


async def change_password(
    session: AsyncSession,
    account: Account,
    data: schemas.PasswordChange,
    *,
    keep_session: uuid.UUID | None,
) -> int:
    """Checks the current password, stores the new one and ends every other session of the
    person (a stolen session dies with the old password). Returns how many it ended."""
    if not await passwords.verify_secret(account.password_hash, data.current_password):
        raise errors.WrongPassword(
            "The current password is not right.",
            errors=[{"loc": "body.current_password", "msg": "not right"}],
        )
    if data.new_password == data.current_password:
        raise Unprocessable(
            "The new password must differ from the current one.",
            errors=[{"loc": "body.new_password", "msg": "same as the current password"}],
        )
    account.password_hash = await passwords.hash_secret(data.new_password)
    await session.flush()
    return await sessions.revoke_all(
        session, account.person_id, reason="password_changed", keep=keep_session
    )


async def issue_reset(
    session: AsyncSession, person: Person, *, principal: Principal, ttl_seconds: int
) -> tuple[PasswordReset, str]:
    """A trust admin's reset: a one-time token for the person, their sessions ended, their old
    password void, and any earlier unused reset replaced."""
    if not principal.is_trust_admin or principal.person_id is None:
        raise Forbidden("Only a trust admin can reset a password.")
    if person.erased_at is not None:
        raise directory_errors.PersonErased("This person was erased.")
    if not person.email:
        raise Unprocessable(
            "A login needs an email: give the person one first.",
            errors=[{"loc": "path.person_id", "msg": "the person has no email"}],
        )
    now = utcnow()
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.person_id == person.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    account = await session.get(Account, person.id)
    if account is not None:
        account.password_hash = NO_PASSWORD
    raw = secrets.token_urlsafe(32)
    reset = PasswordReset(
        trust_id=person.trust_id,
        person_id=person.id,
        token_hash=sessions.token_hash(raw),
        created_by=principal.person_id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(reset)
    await session.flush()
    await sessions.revoke_all(session, person.id, reason="password_reset")
    return reset, raw


async def redeem_reset(session: AsyncSession, data: schemas.PasswordResetRedeem) -> Person:
    """Sets the new password with a reset token (once, before it expires)."""
    reset = await session.scalar(
        select(PasswordReset)
        .where(PasswordReset.token_hash == sessions.token_hash(data.reset_token))
        .with_for_update()
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise errors.ResetNotValid("This reset is not valid (unknown, used or expired).")
    person = await session.get(Person, reset.person_id)
    if person is None or not person.active or person.erased_at is not None or not person.email:
        raise errors.ResetNotValid("This person can no longer sign in.")
    reset.used_at = utcnow()
    await identity.set_password(session, person, email=person.email, password=data.new_password)
    await session.flush()
    await sessions.revoke_all(session, person.id, reason="password_reset")
    return person
