"""The gateway started on its own (no service behind it), with settings of the test's own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from cpd_local.stack import ServiceSpec, Stack, start_stack


@contextlib.asynccontextmanager
async def gateway_alone(
    pg_server: Any, nats_url: str, demo_specs: list[ServiceSpec], **settings: Any
) -> AsyncIterator[Stack]:
    """The demo gateway alone, its settings overridden by ``settings``."""
    only = [s for s in demo_specs if s.name == "gateway"]
    async with start_stack(pg_server, nats_url, only, gateway_settings=settings) as running:
        yield running
