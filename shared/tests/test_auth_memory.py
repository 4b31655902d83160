"""Verified tokens are remembered until they expire, bounded least recently used first, while
revocation and a withdrawn signing key still refuse a remembered token at once."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from cpd_common.auth import JwksCache, TokenVerifier
from cpd_common.revocation import CHANNEL, REFUSED, RevocationCache

from .auth_helpers import AUDIENCE, ISSUER, JWKS_URL, TRUST, Gateway, refused, verifier_for
from .auth_helpers import gateway as gateway

# ---- verified tokens are remembered; revocation and key withdrawal still bite at once ----


class DecodeCounter:
    """Counts full verifications (signature and claims) by wrapping ``jwt.decode``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = jwt.decode

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr("cpd_common.auth.jwt.decode", counting)


def loaded_revocations() -> RevocationCache:
    """A cache as an API process holds it once loaded; rows arrive as the trigger's notices."""
    cache = RevocationCache("postgresql+asyncpg://nobody@localhost/unused")
    cache.loaded.set()
    return cache


def notice(cache: RevocationCache, subject: str, **row: Any) -> None:
    now = datetime.now(UTC).isoformat()
    payload = {
        "subject": subject,
        "trust_id": str(TRUST),
        "active": True,
        "roles": None,
        "school_ids": None,
        "narrowed_at": now,
        "deactivated_at": None,
        "updated_at": now,
        **row,
    }
    cache._on_notify(None, 0, CHANNEL, json.dumps(payload))


async def test_a_verified_token_is_not_verified_again_until_it_expires(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeCounter(monkeypatch)
    verifier = verifier_for(gateway)
    token = gateway.token("main")
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first
    assert await verifier.verify(token) is first
    assert decodes.calls == 1
    # Within the leeway past its exp a token passes, but is never served from memory.
    now = int(time.time())
    late = gateway.token("main", exp=now - 2, iat=now - 900)
    await verifier.verify(late)
    await verifier.verify(late)
    assert decodes.calls == 3


async def test_refused_tokens_are_not_remembered(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeCounter(monkeypatch)
    verifier = verifier_for(gateway)
    bad = gateway.token("main", aud="someone-else")
    assert (await refused(verifier, bad)).status == 401
    assert (await refused(verifier, bad)).status == 401
    assert decodes.calls == 2


async def test_the_remembered_tokens_are_bounded_least_recently_used_first(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeCounter(monkeypatch)
    verifier = verifier_for(gateway, cache_size=2)
    one, two, three = (gateway.token("main") for _ in range(3))
    await verifier.verify(one)
    await verifier.verify(two)
    await verifier.verify(one)  # one is now the most recently used
    await verifier.verify(three)  # evicts two
    assert decodes.calls == 3
    await verifier.verify(one)
    assert decodes.calls == 3
    await verifier.verify(two)
    assert decodes.calls == 4
    assert len(verifier._verified) == 2


async def test_revocation_refuses_a_remembered_token_at_once(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = DecodeCounter(monkeypatch)
    revocations = loaded_revocations()
    verifier = verifier_for(gateway, revocations=revocations)
    person, admin = f"person:{uuid.uuid4()}", f"person:{uuid.uuid4()}"
    issued = int(time.time()) - 10
    token = gateway.token("main", sub=person, iat=issued)
    admin_token = gateway.token("main", sub=admin, roles=["trust_admin"], iat=issued)
    assert (await verifier.verify(token)).sub == person
    assert (await verifier.verify(admin_token)).is_trust_admin
    assert decodes.calls == 2

    # Deactivated: the very next request with the remembered token is refused.
    notice(revocations, person, active=False, deactivated_at=datetime.now(UTC).isoformat())
    error = await refused(verifier, token)
    assert error.status == 401 and error.detail == REFUSED
    # Demoted from trust admin: a token still carrying the role is refused as well.
    notice(revocations, admin, roles=["staff"])
    assert (await refused(verifier, admin_token)).detail == REFUSED
    assert decodes.calls == 2  # refused from memory, by the revocation check alone

    # Reactivated with the role back (a new row): the token is honoured again.
    notice(revocations, admin, roles=["trust_admin", "staff"])
    assert (await verifier.verify(admin_token)).is_trust_admin


async def test_revocations_not_loaded_refuse_a_remembered_token_with_503(
    gateway: Gateway,
) -> None:
    revocations = loaded_revocations()
    verifier = verifier_for(gateway, revocations=revocations)
    token = gateway.token("main")
    await verifier.verify(token)
    revocations.loaded.clear()
    assert (await refused(verifier, token)).status == 503


async def test_a_remembered_token_whose_key_was_withdrawn_is_refused(gateway: Gateway) -> None:
    # ttl 0: every lookup refetches the JWKS, as after the cache's ttl in production.
    cache = JwksCache(JWKS_URL, client=gateway.client(), ttl=0.0, min_refresh_interval=0.0)
    verifier = TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)
    token = gateway.token("main")
    assert (await verifier.verify(token)).trust_id == TRUST
    assert (await verifier.verify(token)).trust_id == TRUST
    gateway.published.clear()
    error = await refused(verifier, token)
    assert error.status == 401 and "unknown key" in error.detail
