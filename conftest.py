"""Fixtures shared by every test suite: the whole platform in-process on real PostgreSQL and NATS.

``pg_server``, ``nats_server`` and ``nats_clean`` come from the ``cpd_common.testing.plugin``
pytest plugin (loaded in pyproject's addopts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cpd_local.platform import SERVICE_NAMES, platform_specs
from cpd_local.stack import Stack, seeded_templates, start_stack


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """The services a suite's tests start (behind the gateway): every one by default; a
    service's own suite overrides this with what its tests use."""
    return SERVICE_NAMES


async def _seed_demo(stack: Stack) -> None:
    from cpd_gateway.demo import seed_demo

    async with stack.session("gateway") as session:
        await seed_demo(session)
        await session.commit()


@pytest.fixture
async def stack(request, pg_server, nats_clean, platform_services) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """The gateway and ``platform_services`` on fresh databases, routed over ASGI. For a test
    that uses ``demo``, the databases are copies of ones the demo was seeded into once per
    session (its events delivered), which is what seeding each test's own would leave."""
    specs = platform_specs(platform_services)
    templates = None
    if "demo" in request.fixturenames:
        templates = await seeded_templates(pg_server, nats_clean, specs, "demo", _seed_demo)
    async with start_stack(pg_server, nats_clean, specs, templates=templates) as running:
        yield running


@pytest.fixture
async def demo(stack: Stack) -> Stack:
    """The stack with the demo trust seeded in the gateway and its directory events delivered
    to every service. Logins: ``cpd_gateway.demo.DEMO_CREDENTIALS``."""
    return stack
