"""``python -m cpd_gateway.reseal_secrets``: re-encrypts every stored secret (SSO client
secrets, webhook signing secrets) with the first key of ``CPD_SECRETS_KEY``, the step of a
key rotation after the new key was put first (docs/operations.md, "Secrets at rest").

Run it with the gateway's own settings once every replica has the new key list, e.g.
``kubectl exec deploy/gateway -- python -m cpd_gateway.reseal_secrets``; afterwards the old
key can be dropped. Rows are locked while rewritten, in one transaction; running it again is
harmless. It fails, changing nothing, if a secret cannot be decrypted with any key given.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from cpd_common.db import create_engine, create_sessionmaker
from cpd_gateway.models import SsoConfig
from cpd_gateway.secret_box import box_of
from cpd_gateway.settings import Settings
from cpd_gateway.webhooks.models import WebhookSubscription


async def reseal(settings: Settings) -> dict[str, int]:
    """How many secrets of each kind were re-encrypted."""
    box = box_of(settings)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            configs = (await session.scalars(select(SsoConfig).with_for_update())).all()
            for config in configs:
                config.client_secret_encrypted = box.reseal(config.client_secret_encrypted)
            hooks = (await session.scalars(select(WebhookSubscription).with_for_update())).all()
            for hook in hooks:
                hook.secret_encrypted = box.reseal(hook.secret_encrypted)
        return {"sso_client_secrets": len(configs), "webhook_secrets": len(hooks)}
    finally:
        await engine.dispose()


def main() -> None:
    print(json.dumps(asyncio.run(reseal(Settings()))))


if __name__ == "__main__":
    main()
