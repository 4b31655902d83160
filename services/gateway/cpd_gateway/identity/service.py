"""Who may sign in, and the claims their token carries."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.db import utcnow
from cpd_common.errors import Unauthorized
from cpd_gateway.identity import passwords
from cpd_gateway.identity.passwords import hasher
from cpd_gateway.models import Account, ApiClient, Person

# Verified against when the user is unknown, so both failures take the same time.
_DUMMY_HASH = hasher.hash("not-a-real-password")
BAD_CREDENTIALS = "The credentials are not valid."


def hash_secret(secret: str) -> str:
    """Blocking: for scripts (the demo seed). Request handlers use ``passwords.hash_secret``."""
    return hasher.hash(secret)


async def _verify(hash_: str, secret: str) -> bool:
    return await passwords.verify_secret(hash_, secret)


def person_claims(person: Person) -> dict[str, Any]:
    return {
        "sub": f"person:{person.id}",
        "trust_id": str(person.trust_id),
        "school_ids": [str(s) for s in person.school_ids or []],
        "roles": list(person.roles or []),
        "scope": "",
        "name": person.name,
    }


def client_claims(client: ApiClient, scopes: list[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": f"client:{client.client_id}",
        "trust_id": str(client.trust_id),
        "school_ids": [],
        "roles": list(client.roles or []),
        "scope": " ".join(scopes),
    }
    if client.rate_limit_per_minute:
        claims["rate_limit"] = client.rate_limit_per_minute  # read by cpd_gateway.ratelimit
    return claims


async def authenticate_person(session: AsyncSession, *, email: str, password: str) -> Person:
    row = (
        await session.execute(
            select(Account, Person)
            .join(Person, Person.id == Account.person_id)
            .where(func.lower(Account.email) == email.strip().lower())
        )
    ).first()
    if row is None:
        await _verify(_DUMMY_HASH, password)
        raise Unauthorized(BAD_CREDENTIALS)
    account, person = row
    if not await _verify(account.password_hash, password) or not person.active or person.erased_at:
        raise Unauthorized(BAD_CREDENTIALS)
    return person


async def authenticate_client(
    session: AsyncSession, *, client_id: str, secret: str, requested: list[str] | None
) -> tuple[ApiClient, list[str]]:
    client = await session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        await _verify(_DUMMY_HASH, secret)
        raise Unauthorized(BAD_CREDENTIALS)
    if not await _client_secret_matches(client, secret) or not client.active:
        raise Unauthorized(BAD_CREDENTIALS)
    granted = list(client.scopes or [])
    if requested:
        unknown = [s for s in requested if s not in granted]
        if unknown:
            raise Unauthorized(f"Scope not granted to this client: {' '.join(unknown)}.")
        granted = requested
    return client, granted


async def _client_secret_matches(client: ApiClient, secret: str) -> bool:
    """The current secret, or the previous one during its overlap after a rotation."""
    if await _verify(client.secret_hash, secret):
        return True
    expires = client.previous_secret_expires_at
    return bool(
        client.previous_secret_hash
        and expires is not None
        and expires > utcnow()
        and await _verify(client.previous_secret_hash, secret)
    )


async def set_password(session: AsyncSession, person: Person, *, email: str, password: str) -> None:
    account = await session.get(Account, person.id)
    if account is None:
        session.add(
            Account(
                person_id=person.id,
                email=email.strip().lower(),
                password_hash=await passwords.hash_secret(password),
                created_at=utcnow(),
            )
        )
    else:
        account.email = email.strip().lower()
        account.password_hash = await passwords.hash_secret(password)


async def person_for_token(session: AsyncSession, person_id: uuid.UUID) -> Person | None:
    return await session.get(Person, person_id)
