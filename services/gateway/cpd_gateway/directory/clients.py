"""API clients of a trust: registering one (its id is generated, its secret shown once and
only its hash kept), its rate limit, rotating its secret (the previous one works for a short
overlap) and revoking it, which stops its secrets and tokens at once
(``directory.client.revoked``)."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, revocation
from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, utcnow
from cpd_common.events import catalogue
from cpd_gateway.directory import errors, schemas
from cpd_gateway.directory.trusts import require_admin
from cpd_gateway.identity import passwords
from cpd_gateway.models import ApiClient, TokenRevocation


def clients_query(*, principal: Principal) -> Select[Any]:
    require_admin(principal)
    return select(ApiClient).where(ApiClient.trust_id == principal.trust_id)


async def get_client(
    session: AsyncSession, client_id: uuid.UUID, *, principal: Principal
) -> ApiClient:
    client = None
    if principal.is_trust_admin:
        client = await session.scalar(
            clients_query(principal=principal).where(ApiClient.id == client_id)
        )
    if client is None:
        raise errors.ClientNotFound()
    return client


async def create_client(
    session: AsyncSession, data: schemas.ClientCreate, *, principal: Principal
) -> tuple[ApiClient, str]:
    require_admin(principal)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        trust_id=principal.trust_id,
        # Generated, never chosen: a chosen id taken in another trust would tell that it exists.
        client_id=f"client-{secrets.token_hex(8)}",
        name=data.name,
        secret_hash=await passwords.hash_secret(secret),
        roles=list(data.roles),
        scopes=list(data.scopes),
        rate_limit_per_minute=data.rate_limit_per_minute,
    )
    async with one_of_a_kind(session, errors.ClientIdTaken()):
        session.add(client)
        await session.flush()
    return client, secret


async def update_client(
    session: AsyncSession, client: ApiClient, data: schemas.ClientUpdate, *, principal: Principal
) -> ApiClient:
    require_admin(principal)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        client.name = changes["name"]
    if "rate_limit_per_minute" in changes:
        client.rate_limit_per_minute = changes["rate_limit_per_minute"]
    client.updated_at = utcnow()
    await session.flush()
    return client


async def rotate_client_secret(
    session: AsyncSession, client: ApiClient, *, principal: Principal, overlap_seconds: int
) -> tuple[ApiClient, str]:
    """A new secret; the current one keeps working for ``overlap_seconds`` (the one before it,
    if still in its overlap, stops now: at most two secrets work at once)."""
    require_admin(principal)
    await session.refresh(client, with_for_update=True)
    if not client.active:
        raise errors.ClientRevoked("This client was revoked; register a new one.")
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    client.previous_secret_hash = client.secret_hash
    client.previous_secret_expires_at = now + timedelta(seconds=overlap_seconds)
    client.secret_hash = await passwords.hash_secret(secret)
    client.secret_rotated_at = now
    client.updated_at = now
    await session.flush()
    return client, secret


async def revoke_client(session: AsyncSession, client: ApiClient, *, principal: Principal) -> None:
    require_admin(principal)
    if client.active:
        await revocation.record(
            session,
            TokenRevocation,
            subject=revocation.subject_of_client(client.client_id),
            trust_id=client.trust_id,
            active=False,
            roles=None,
            school_ids=None,
            at=utcnow(),
            narrowed=True,
            deactivated=True,
        )
        events.add(
            session,
            catalogue.ClientRevoked(client_id=client.client_id, trust_id=client.trust_id),
        )
    client.active = False
    # No secret of a revoked client works again, the previous one included.
    client.previous_secret_hash = None
    client.previous_secret_expires_at = None
    client.updated_at = utcnow()
    await session.flush()
