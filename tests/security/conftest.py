"""The security suite's platform: every service in-process behind the gateway, started once per
module on real PostgreSQL and NATS, with the demo trust and every service's demo content (the
data the attacks aim at; Riverside, the demo's second trust, is the other tenant)."""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import AsyncIterator

import pytest

from cpd_common.testing.plugin import reset_jetstream
from cpd_local.platform import SERVICE_NAMES, platform_specs
from cpd_local.stack import Stack, start_stack


async def seed_everything(stack: Stack) -> None:
    """The demo trust in the gateway, then each service's demo, events settled in between."""
    from cpd_gateway.demo import seed_demo

    async with stack.session("gateway") as session:
        await seed_demo(session)
        await session.commit()
    await stack.settle()
    for name in SERVICE_NAMES[1:]:
        module = importlib.import_module(f"cpd_{name}.demo")
        async with stack.session(name) as session:
            await module.seed_demo(session)
            await session.commit()
        await stack.settle()


@contextlib.asynccontextmanager
async def seeded_world(pg_server, nats_url: str) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """Every service behind the gateway, seeded, rate limits out of reach (see ``world``)."""
    unreachable = {
        "rate_limit_person_per_minute": 1_000_000,
        "rate_limit_client_per_minute": 1_000_000,
    }
    async with start_stack(
        pg_server, nats_url, platform_specs(), gateway_settings=unreachable
    ) as stack:
        started = time.monotonic()
        await seed_everything(stack)
        stack.seed_seconds = time.monotonic() - started  # type: ignore[attr-defined]
        yield stack


@pytest.fixture(scope="package")
async def world(pg_server, nats_server) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """One seeded platform for the whole directory (the attacks read, and the few that write are
    refused or land on resources of their own). The rate limits stay on but out of reach: the
    suites send thousands of requests as a handful of people within a minute or two, and a 429
    would hide the answer under test."""
    await reset_jetstream(nats_server.url)
    async with seeded_world(pg_server, nats_server.url) as stack:
        yield stack
