"""Secrets the gateway keeps to use again (SSO client secrets, webhook signing secrets) are
encrypted at rest with CPD_SECRETS_KEY: the migration encrypts rows stored in clear before it
(and refuses without a key), re-encrypting after a key rotation moves every secret to the new
key, and neither the API nor the worker starts without a key. That signing and sign-in still
work with the stored secrets is shown by test_webhooks.py and test_sso.py."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cpd_common.migrations import upgrade
from cpd_common.testing.databases import unique_name
from cpd_demo.trust import OAKRIDGE
from cpd_gateway import reseal_secrets, worker
from cpd_gateway.main import create_app
from cpd_gateway.secret_box import SecretBox, SecretsKeyError
from cpd_gateway.settings import Settings
from cpd_local.platform import service_spec
from cpd_local.stack import DEV_SECRETS_KEY, Stack

BEFORE = "20261202_tombstone_scope"


async def sql(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_the_migration_encrypts_secrets_stored_in_clear(
    pg_server,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = unique_name("mig_secrets")
    await pg_server.acreate_database(db)
    url = pg_server.url(db)
    service_dir = service_spec("gateway").service_dir
    try:
        await asyncio.to_thread(upgrade, service_dir, url, BEFORE)
        await sql(
            url,
            "INSERT INTO sso_configs (id, trust_id, issuer, client_id, client_secret, scopes,"
            " external_id_claim, enabled) VALUES (:id, :trust, 'https://idp.example', 'cpd',"
            " 'sso-clear-secret', '{openid}', 'sub', true)",
            id=uuid.uuid4(),
            trust=OAKRIDGE,
        )
        await sql(
            url,
            "INSERT INTO webhook_subscriptions (id, trust_id, url, event_types, status, secret,"
            " created_by) VALUES (:id, :trust, 'https://hooks.example', '{*}', 'active',"
            " 'whsec_clearclear', 'test')",
            id=uuid.uuid4(),
            trust=OAKRIDGE,
        )
        # Rows in clear and no key: the migration stops before changing anything.
        monkeypatch.delenv("CPD_SECRETS_KEY", raising=False)
        with pytest.raises(RuntimeError, match="CPD_SECRETS_KEY"):
            await asyncio.to_thread(upgrade, service_dir, url)
        assert await sql(url, "SELECT client_secret FROM sso_configs") == [("sso-clear-secret",)]

        monkeypatch.setenv("CPD_SECRETS_KEY", DEV_SECRETS_KEY)
        await asyncio.to_thread(upgrade, service_dir, url)
        [(sso,)] = await sql(url, "SELECT client_secret_encrypted FROM sso_configs")
        [(hook,)] = await sql(url, "SELECT secret_encrypted FROM webhook_subscriptions")
        assert isinstance(sso, str) and isinstance(hook, str)
        dump = await sql(
            url,
            "SELECT s::text FROM sso_configs s UNION ALL "
            "SELECT w::text FROM webhook_subscriptions w",
        )
        assert not any("clear" in str(row) for row in dump), dump
        box = SecretBox(DEV_SECRETS_KEY)
        assert (box.open(sso), box.open(hook)) == ("sso-clear-secret", "whsec_clearclear")
    finally:
        await pg_server.adrop_database(db)


async def test_resealing_moves_every_secret_to_the_new_key(seeded: Stack) -> None:
    box = SecretBox(DEV_SECRETS_KEY)
    async with seeded.session("gateway") as session, session.begin():
        for n in range(2):
            await session.execute(
                text(
                    "INSERT INTO webhook_subscriptions (id, trust_id, url, event_types, status,"
                    " secret_encrypted, created_by) VALUES (:id, :trust, 'https://h.example',"
                    " '{*}', 'active', :secret, 'test')"
                ),
                {"id": uuid.uuid4(), "trust": OAKRIDGE, "secret": box.seal(f"whsec_{n}")},
            )
    new_key = Fernet.generate_key().decode()
    settings = Settings(
        database_url=seeded.services["gateway"].settings.database_url,
        secrets_key=f"{new_key},{DEV_SECRETS_KEY}",  # type: ignore[arg-type]
    )
    assert await reseal_secrets.reseal(settings) == {"sso_client_secrets": 0, "webhook_secrets": 2}
    async with seeded.session("gateway") as session:
        stored = (
            await session.scalars(text("SELECT secret_encrypted FROM webhook_subscriptions"))
        ).all()
    new = Fernet(new_key.encode())
    assert sorted(new.decrypt(s.encode()).decode() for s in stored) == ["whsec_0", "whsec_1"]
    # The old key alone no longer opens them: it can be dropped.
    with pytest.raises(SecretsKeyError):
        box.open(stored[0])


async def test_no_key_no_start() -> None:
    settings = Settings(secrets_key=None)
    with pytest.raises(SecretsKeyError, match="CPD_SECRETS_KEY is not set"):
        worker.periodic(settings)
    with pytest.raises(SecretsKeyError, match="CPD_SECRETS_KEY is not set"):
        async with LifespanManager(create_app(settings)):
            pass
    with pytest.raises(SecretsKeyError, match="Fernet keys"):
        SecretBox("not-a-key")
