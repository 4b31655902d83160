"""Readiness tells the truth: a service is not ready while its worker (outbox relay and event
consumers) is dead or stuck, and the gateway is not ready until every service behind it is."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from cpd_common import worker
from cpd_common.testing.stack import Stack, wait_for

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
