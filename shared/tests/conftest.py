"""Fixtures of the shared tests.

Messaging: a fresh database holding the tables of :mod:`events_helpers` (with the outbox
NOTIFY trigger), and a JetStream context on a clean NATS server with the stream in place.

Conventions: the tiny service of :mod:`tiny_service` on a copy of its schema (built once per
module), with its signing keys, and the same service with its database unreachable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import nats
import pytest
from asgi_lifespan import LifespanManager

from cpd_common.app import create_service_app
from cpd_common.db import create_engine, create_sessionmaker
from cpd_common.events.outbox import CREATE_NOTIFY_TRIGGER, ensure_stream
from cpd_common.testing.databases import unique_name
from cpd_common.testing.servers import free_port

from .events_helpers import Base as EventsBase
from .tiny_service import TEMPLATE, KeyServer, Service, router, settings_for, start_service
from .tiny_service import Base as TinyBase


@pytest.fixture
async def db(pg_server) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    name = unique_name("events")
    await pg_server.acreate_database(name)
    engine = create_engine(pg_server.url(name), pool_size=4, max_overflow=4)
    async with engine.begin() as conn:
        await conn.run_sync(EventsBase.metadata.create_all)
        for statement in CREATE_NOTIFY_TRIGGER:
            await conn.exec_driver_sql(statement)
    try:
        yield engine, create_sessionmaker(engine)
    finally:
        await engine.dispose()
        await pg_server.adrop_database(name)


@pytest.fixture
async def js(nats_clean: str) -> AsyncIterator[Any]:
    nc = await nats.connect(nats_clean)
    jetstream = nc.jetstream()
    await ensure_stream(jetstream)
    yield jetstream
    await nc.close()


# ---- the tiny service -----------------------------------------------------------------------


@pytest.fixture(scope="module")
async def template(pg_server) -> str:  # type: ignore[no-untyped-def]
    """The tiny service's schema, built once; each test gets a file-level copy of it (the
    template goes with the session's PostgreSQL cluster)."""
    await pg_server.adrop_database(TEMPLATE)
    url = await pg_server.acreate_database(TEMPLATE)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(TinyBase.metadata.create_all)
    finally:
        await engine.dispose()
    return TEMPLATE


@pytest.fixture
async def database(pg_server, template: str) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    name = unique_name("conventions")
    url = await pg_server.acreate_database(name, template=template)
    try:
        yield url
    finally:
        await pg_server.adrop_database(name)


@pytest.fixture
async def keys() -> KeyServer:
    server = KeyServer()
    server.add_key()
    return server


@pytest.fixture
async def svc(database: str, keys: KeyServer) -> AsyncIterator[Service]:
    async for service in start_service(database, keys):
        yield service


@pytest.fixture
async def down(keys: KeyServer) -> AsyncIterator[Service]:
    """The same service with its database on a port where nothing listens."""
    url = f"postgresql+asyncpg://cpd@127.0.0.1:{free_port()}/nowhere"
    jwks_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=keys.app()), base_url="http://jwks"
    )
    app = create_service_app(
        settings_for(url),
        title="Conventions test service (database down)",
        routers=[router],
        jwks_client=jwks_client,
    )
    try:
        async with LifespanManager(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                base_url="http://service",
            ) as client:
                yield Service(app=app, client=client, keys=keys, check=None)  # type: ignore[arg-type]
    finally:
        await jwks_client.aclose()
