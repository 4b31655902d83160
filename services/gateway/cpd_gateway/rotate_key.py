"""``python -m cpd_gateway.rotate_key``: the operator's signing-key rotation.

The token-signing key belongs to the platform, not to a trust, so no API role can rotate it:
whoever runs the gateway does, with the gateway's own settings (``CPD_DATABASE_URL`` ...), e.g.
``kubectl exec deploy/gateway -- python -m cpd_gateway.rotate_key``. The new key is published
at once and signs after ``CPD_SIGNING_KEY_PENDING_SECONDS`` (every replica re-reads keys within
seconds); the old one stays in the JWKS until the last token it signed has expired, so nobody is
signed out. At most one key is pending: rotating again meanwhile answers the same key.
"""

from __future__ import annotations

import asyncio
import json

from cpd_common.db import create_engine, create_sessionmaker
from cpd_gateway.identity import keys
from cpd_gateway.settings import Settings


async def rotate(settings: Settings) -> dict[str, str]:
    """Makes the next key (or finds the pending one); returns its id, algorithm and when it signs."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            key = await keys.rotate(
                session,
                algorithm=settings.signing_algorithm,
                token_ttl=settings.token_ttl_seconds,
                pending_seconds=settings.signing_key_pending_seconds,
            )
            return {
                "kid": key.kid,
                "algorithm": key.algorithm,
                "signs_from": key.created_at.isoformat(),
            }
    finally:
        await engine.dispose()


def main() -> None:
    print(json.dumps(asyncio.run(rotate(Settings()))))


if __name__ == "__main__":
    main()
