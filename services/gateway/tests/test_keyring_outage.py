"""The gateway's key ring while its database is away (issue 12, faults): tokens keep verifying
with the keys it read last, and a ring that never read any answers 503 with Retry-After; never
an exception out of the rate-limit middleware (which a PostgreSQL restart once turned into
"Exception in ASGI application" on every request whose key cache had just expired)."""

from __future__ import annotations

import time

import jwt
import pytest

from cpd_common.db import create_engine, create_sessionmaker
from cpd_common.errors import ServiceUnavailable
from cpd_common.testing.servers import free_port
from cpd_demo.trust import DEMO_CREDENTIALS
from cpd_gateway.identity import keys
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]


async def test_keys_read_before_an_outage_keep_verifying_and_none_is_a_503(
    seeded: Stack,
) -> None:
    token = (
        await seeded.gateway.post(
            "/auth/token",
            data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]},
        )
    ).json()["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    ring = keys.KeyRing(seeded.services["gateway"].sessionmaker)
    assert await ring.get(kid) is not None

    dead = create_engine(f"postgresql+asyncpg://cpd:x@127.0.0.1:{free_port()}/gone")
    try:
        ring._sessionmaker = create_sessionmaker(dead)
        ring._loaded_at = time.monotonic() - keys.CACHE_SECONDS - 1  # the cache has expired
        assert await ring.get(kid) is not None
        assert await ring.jwks() != {"keys": []}

        never = keys.KeyRing(create_sessionmaker(dead))
        with pytest.raises(ServiceUnavailable) as refused:
            await never.get(kid)
        assert refused.value.headers["Retry-After"] == "2"
    finally:
        await dead.dispose()
