"""API clients of a trust: registering one (its secret is shown once, only its hash is
kept) and revoking it, which stops its tokens at once (``directory.client.revoked``)."""

from __future__ import annotations

import secrets
import uuid
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
    client_id = data.client_id or f"client-{secrets.token_hex(6)}"
    if await session.scalar(select(ApiClient.id).where(ApiClient.client_id == client_id)):
        raise errors.ClientIdTaken()
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        trust_id=principal.trust_id,
        client_id=client_id,
        name=data.name,
        secret_hash=await passwords.hash_secret(secret),
        roles=list(data.roles),
        scopes=list(data.scopes),
    )
    async with one_of_a_kind(session, errors.ClientIdTaken()):
        session.add(client)
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
    client.updated_at = utcnow()
    await session.flush()
