"""Gateway test fixtures: the demo trust seeded once per session into a template database
that every test copies, so a test pays for a database copy instead of hashing the demo
passwords again."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from cpd_common.db import create_engine, create_sessionmaker
from cpd_gateway.demo import seed_demo
from cpd_local.platform import platform_specs
from cpd_local.stack import ServiceSpec, Stack, ensure_templates, start_stack

# ---- the demo trust, seeded once into a template ---------------------------------------------

DEMO_TEMPLATE = "tpl_gateway_demo_seeded"


class _SeededGatewaySpec(ServiceSpec):
    @property
    def template(self) -> str:
        return DEMO_TEMPLATE


@pytest.fixture(scope="session")
async def demo_specs(pg_server) -> list[ServiceSpec]:  # type: ignore[no-untyped-def]
    specs = platform_specs()
    gateway = next(s for s in specs if s.name == "gateway")
    seeded = _SeededGatewaySpec(
        **{f.name: getattr(gateway, f.name) for f in dataclasses.fields(gateway)}
    )
    specs = [seeded if s is gateway else s for s in specs]
    await asyncio.to_thread(ensure_templates, pg_server, specs)
    engine = create_engine(pg_server.url(DEMO_TEMPLATE), pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session:
            await seed_demo(session)  # no-op when another module seeded it already
            await session.commit()
    finally:
        await engine.dispose()
    await asyncio.to_thread(
        pg_server.psql,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{DEMO_TEMPLATE}'",
    )
    return specs


@pytest.fixture
async def seeded(pg_server, nats_clean, demo_specs) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """The gateway alone, with the demo trust (for what needs no service behind it)."""
    gateway_only = [s for s in demo_specs if s.name == "gateway"]
    async with start_stack(pg_server, nats_clean, gateway_only) as running:
        yield running


@pytest.fixture
async def platform(pg_server, nats_clean, demo_specs) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """Every service, with the demo trust in the gateway (its events not yet delivered)."""
    async with start_stack(pg_server, nats_clean, demo_specs) as running:
        yield running
