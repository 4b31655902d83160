"""Signing keys: generated and stored by the gateway, rotated without downtime.

Every gateway replica reads the keys from its database (cached for a few seconds), so a
rotation on one replica is picked up by the others; the retired key stays in the JWKS until
the last token it signed has expired.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cpd_common.db import utcnow
from cpd_common.errors import ServiceUnavailable, is_unavailable
from cpd_gateway.models import SigningKey

CACHE_SECONDS = 5.0


def new_signing_key(algorithm: str = "EdDSA") -> SigningKey:
    if algorithm == "EdDSA":
        private: Any = ed25519.Ed25519PrivateKey.generate()
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    elif algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm}")
    kid = uuid.uuid4().hex
    jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return SigningKey(
        kid=kid, algorithm=algorithm, private_pem=pem, public_jwk=jwk, created_at=utcnow()
    )


async def ensure_signing_key(session: AsyncSession, algorithm: str) -> None:
    """Creates the first key when there is none (safe with several replicas starting)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('cpd_signing_keys'))"))
    exists = await session.scalar(select(SigningKey.kid).where(SigningKey.retired_at.is_(None)))
    if exists is None:
        session.add(new_signing_key(algorithm))


async def rotate(
    session: AsyncSession, *, algorithm: str, token_ttl: int, pending_seconds: int = 0
) -> SigningKey:
    """Makes the next signing key, or returns the pending one if a rotation is already under way.

    Lifecycle: a new key is *pending* (published in the JWKS, not yet signing) until its
    ``created_at``, which is ``pending_seconds`` from now, so every replica and service can see
    it before the first token it signs; at that moment the current key is *retired* (it stops
    signing) and stays published until ``publish_until``, when the last token it signed has
    expired. There is at most one pending key: rotating again while one is pending changes
    nothing and answers that key.
    """
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('cpd_signing_keys'))"))
    now = utcnow()
    pending = await session.scalar(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None), SigningKey.created_at > now)
        .order_by(SigningKey.created_at.desc())
        .limit(1)
    )
    if pending is not None:
        return pending
    signs_from = now + timedelta(seconds=pending_seconds)
    current = (
        await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))
    ).all()
    for key in current:
        key.retired_at = signs_from
        key.publish_until = signs_from + timedelta(seconds=token_ttl + 60)
    key = new_signing_key(algorithm)
    key.created_at = signs_from
    session.add(key)
    await session.flush()
    return key


class KeyRing:
    """The gateway's view of its keys: signs with the newest active key, verifies with any
    published key. Same ``get(kid)`` interface as :class:`cpd_common.auth.JwksCache`."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._loaded_at = -1e9
        self._signing: tuple[str, str, Any] | None = None
        self._public: dict[str, dict[str, Any]] = {}
        self._verify: dict[str, jwt.PyJWK] = {}
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    async def _load(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._loaded_at < CACHE_SECONDS:
            return
        async with self._lock:
            if not force and time.monotonic() - self._loaded_at < CACHE_SECONDS:
                return
            try:
                async with self._sessionmaker() as session:
                    keys = (
                        await session.scalars(
                            select(SigningKey)
                            .where(
                                or_(
                                    SigningKey.retired_at.is_(None),
                                    SigningKey.publish_until > utcnow(),
                                )
                            )
                            .order_by(SigningKey.created_at)
                        )
                    ).all()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                if self._verify:
                    # The database blinked: the keys it gave last still verify tokens (a
                    # rotation waits for it to come back); asked again in a second.
                    self._loaded_at = time.monotonic() - CACHE_SECONDS + 1.0
                    return
                raise ServiceUnavailable(
                    "The signing keys cannot be read yet; retry shortly.",
                    headers={"Retry-After": "2"},
                ) from exc
            signing = None
            now = utcnow()
            for key in keys:
                # The newest key that signs now: not pending, not yet retired.
                if key.created_at <= now and (key.retired_at is None or key.retired_at > now):
                    private = serialization.load_pem_private_key(key.private_pem.encode(), None)
                    signing = (key.kid, key.algorithm, private)
            self._signing = signing
            self._public = {k.kid: dict(k.public_jwk) for k in keys}
            self._verify = {k.kid: jwt.PyJWK(dict(k.public_jwk)) for k in keys}
            self._loaded_at = time.monotonic()

    async def signing_key(self) -> tuple[str, str, Any]:
        await self._load()
        if self._signing is None:
            await self._load(force=True)
        if self._signing is None:
            raise RuntimeError("no active signing key")
        return self._signing

    async def jwks(self) -> dict[str, Any]:
        await self._load()
        return {"keys": list(self._public.values())}

    async def get(self, kid: str) -> jwt.PyJWK | None:
        await self._load()
        key = self._verify.get(kid)
        # An unknown kid may be a key another replica just made; reload, at most once a second.
        if key is None and time.monotonic() - self._loaded_at > 1.0:
            await self._load(force=True)
            key = self._verify.get(kid)
        return key

    async def aclose(self) -> None:
        return None


async def sign(
    keyring: KeyRing, claims: dict[str, Any], *, issuer: str, audience: str, ttl: int
) -> tuple[str, int]:
    kid, algorithm, private = await keyring.signing_key()
    now = int(time.time())
    payload = {
        **claims,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(payload, private, algorithm=algorithm, headers={"kid": kid})
    return token, ttl
