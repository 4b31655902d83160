"""Readiness tells the truth: a service is not ready while its worker (outbox relay and event
consumers) is dead or stuck, and the gateway is not ready until every service behind it is."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from cpd_common import worker
from cpd_common.testing.waiting import wait_for
from cpd_local.stack import Stack

SERVICES = ("gateway", "audit", "lessonstudy", "evaluation")


@contextlib.asynccontextmanager
async def running_workers(stack: Stack, names: tuple[str, ...]) -> AsyncIterator[None]:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(
            worker.run(
                stack.services[name].settings,
                list(stack.services[name].spec.subscriptions()),
                stop=stop,
            )
        )
        for name in names
    ]
    try:
        yield
    finally:
        stop.set()
        assert await asyncio.gather(*tasks) == [0] * len(tasks)


async def _status(stack: Stack, name: str) -> int:
    return (await stack.services[name].client.get("/readyz")).status_code


async def test_services_are_ready_only_while_their_worker_beats(stack: Stack) -> None:
    for name in SERVICES:
        stack.services[name].settings.worker_heartbeat_seconds = 0.2
        stack.services[name].settings.worker_stale_seconds = 1.0
        resp = await stack.services[name].client.get("/readyz")
        assert resp.status_code == 503, (name, resp.text)
        assert "worker" in resp.json()["detail"]
        assert resp.headers["retry-after"]

    async with running_workers(stack, SERVICES[1:]):

        async def domain_ready() -> bool:
            return all([await _status(stack, n) == 200 for n in SERVICES[1:]])

        await wait_for(domain_ready, timeout=10)
        # The gateway's own worker is not running yet: not ready.
        assert await _status(stack, "gateway") == 503
        async with running_workers(stack, ("gateway",)):

            async def gateway_ready() -> bool:
                return await _status(stack, "gateway") == 200

            await wait_for(gateway_ready, timeout=10)
            body = (await stack.gateway.get("/readyz")).json()
            assert body["status"] == "ready" and body["worker"] == "ok"

    # Workers gone: within the stale window every service, and so the gateway, says so.
    async def none_ready() -> bool:
        return all([await _status(stack, n) == 503 for n in SERVICES])

    await wait_for(none_ready, timeout=5)


async def test_gateway_is_not_ready_while_a_service_behind_it_is_not(stack: Stack) -> None:
    for name in SERVICES:
        stack.services[name].settings.worker_heartbeat_seconds = 0.2
    async with running_workers(stack, ("gateway", "audit", "evaluation")):

        async def audit_ready() -> bool:
            return await _status(stack, "audit") == 200

        await wait_for(audit_ready, timeout=10)
        resp = await stack.gateway.get("/readyz")
        assert resp.status_code == 503  # lessonstudy's worker is not running
        assert "lessonstudy" not in resp.text  # clients never see service names
        async with running_workers(stack, ("lessonstudy",)):

            async def gateway_ready() -> bool:
                return await _status(stack, "gateway") == 200

            await wait_for(gateway_ready, timeout=10)


async def test_gateway_metrics_are_not_on_the_public_port(pg_server, nats_clean) -> None:  # type: ignore[no-untyped-def]
    """The public port answers 404 for /metrics; the loopback metrics listener serves them."""
    from cpd_common.testing.servers import free_port
    from cpd_local.platform import platform_specs
    from cpd_local.stack import start_stack

    port = free_port()
    specs = [s for s in platform_specs() if s.name == "gateway"]
    settings_port = {"metrics_port": port}
    async with start_stack(pg_server, nats_clean, specs, gateway_settings=settings_port) as stack:
        public = await stack.gateway.get("/metrics")
        assert public.status_code == 404
        assert public.headers["content-type"] == "application/problem+json"
        async with httpx.AsyncClient() as client:
            metrics = await client.get(f"http://127.0.0.1:{port}/metrics")
            assert metrics.status_code == 200
            assert "cpd_http_requests_total" in metrics.text
            assert (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 404
    # Stopped with the gateway: nothing listens any more.
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/metrics")
