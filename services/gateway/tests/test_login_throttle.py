"""Sign-in under attack: wrong-password bursts neither stall other requests (hashing runs off
the event loop, in a bounded pool) nor go on for long (failures per account and per client
address are throttled with 429 + Retry-After, before any password is checked)."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
import pytest

from cpd_demo.trust import DEMO_CREDENTIALS
from cpd_local.stack import ServiceSpec, Stack

from .gateway_alone import gateway_alone

ADMIN = DEMO_CREDENTIALS["trust admin"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
QA_CLIENT = DEMO_CREDENTIALS["QA API client"]


def from_address(stack: Stack, host: str) -> httpx.AsyncClient:
    """A client of the same in-process gateway that calls from another address."""
    app = stack.gateway._transport.app  # type: ignore[attr-defined]
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(host, 40000)), base_url="http://gateway"
    )


def login(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


def assert_429(resp: httpx.Response) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.json()["status"] == 429


async def test_a_burst_of_bad_logins_does_not_slow_other_requests(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    # Throttling off (huge allowances): every attempt really hashes, so this measures the pool.
    async with gateway_alone(
        pg_server,
        nats_clean,
        demo_specs,
        login_failures_per_account=10**6,
        login_failures_per_account_and_address=10**6,
        login_failures_per_address=10**6,
    ) as stack:
        headers = await stack.auth(*ADMIN)

        async def cheap_median(n: int = 15) -> float:
            took = []
            for _ in range(n):
                started = time.perf_counter()
                resp = await stack.gateway.get("/v1/trusts", headers=headers)
                took.append(time.perf_counter() - started)
                assert resp.status_code == 200, resp.text
            return statistics.median(took)

        attempts = 0

        async def attacker(i: int, stop: asyncio.Event) -> None:
            nonlocal attempts
            async with from_address(stack, f"10.9.0.{i}") as client:
                while not stop.is_set():
                    resp = await client.post(
                        "/auth/token", data=login(f"nobody{i}@nowhere.example", "wrong-guess")
                    )
                    assert resp.status_code == 401, resp.text
                    attempts += 1

        await cheap_median(5)  # warm up
        ratios = []
        for _ in range(5):
            quiet = await cheap_median()
            stop = asyncio.Event()
            # Four attackers sending back to back: more than the 4/s that stalled the gateway.
            tasks = [asyncio.create_task(attacker(i, stop)) for i in range(4)]
            await asyncio.sleep(0.2)
            loud = await cheap_median()
            stop.set()
            await asyncio.gather(*tasks)
            ratios.append(loud / quiet)
        assert attempts >= 8, "the burst did not run"
        ratio = statistics.median(ratios)
        print(f"bad-login burst latency ratio {ratio:.2f} {ratios}")
        assert ratio < 3.0, f"median latency grew {ratio:.1f}x under a bad-login burst: {ratios}"


async def test_failures_from_one_address_are_throttled(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    async with gateway_alone(
        pg_server, nats_clean, demo_specs, login_failures_per_address=4
    ) as stack:
        async with from_address(stack, "10.1.1.1") as attacker:
            for i in range(4):
                resp = await attacker.post(
                    "/auth/token", data=login(f"guess{i}@oakridge.example", "not-it-at-all")
                )
                assert resp.status_code == 401, resp.text
            assert_429(await attacker.post("/auth/token", data=login(*TEACHER)))
            # Client credentials from there too.
            assert_429(
                await attacker.post(
                    "/auth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": QA_CLIENT[0],
                        "client_secret": QA_CLIENT[1],
                    },
                )
            )
        # Another address signs in as usual.
        async with from_address(stack, "10.1.1.2") as other:
            assert (await other.post("/auth/token", data=login(*TEACHER))).status_code == 200


async def test_failures_for_one_account_are_throttled_from_any_address(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    async with gateway_alone(
        pg_server, nats_clean, demo_specs, login_failures_per_account=3
    ) as stack:
        for i in range(3):
            async with from_address(stack, f"10.2.0.{i}") as client:
                resp = await client.post("/auth/token", data=login(TEACHER[0], "wrong-password"))
                assert resp.status_code == 401, resp.text
                # A made-up account is counted the same way (the throttle reveals nothing).
                resp = await client.post(
                    "/auth/token", data=login("made.up@northfield.example", "wrong-password")
                )
                assert resp.status_code == 401, resp.text
        async with from_address(stack, "10.2.0.99") as fresh:
            # Even the right password waits: the account is throttled, whoever asks.
            assert_429(await fresh.post("/auth/token", data=login(*TEACHER)))
            assert_429(
                await fresh.post(
                    "/auth/token", data=login("MADE.UP@northfield.example", "wrong-password")
                )
            )
            # Other accounts are untouched.
            assert (await fresh.post("/auth/token", data=login(*ADMIN))).status_code == 200
        # A client id is an account too.
        for _ in range(3):
            resp = await stack.gateway.post(
                "/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": QA_CLIENT[0],
                    "client_secret": "wrong-secret",
                },
            )
            assert resp.status_code == 401, resp.text
        async with from_address(stack, "10.2.0.98") as fresh:
            assert_429(
                await fresh.post(
                    "/auth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": QA_CLIENT[0],
                        "client_secret": QA_CLIENT[1],
                    },
                )
            )


async def test_one_address_cannot_lock_a_person_out_elsewhere(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    async with gateway_alone(
        pg_server, nats_clean, demo_specs, login_failures_per_account_and_address=3
    ) as stack:
        async with from_address(stack, "10.3.0.1") as attacker:
            for _ in range(3):
                resp = await attacker.post("/auth/token", data=login(TEACHER[0], "guess-guess"))
                assert resp.status_code == 401, resp.text
            # That address may not try this account any more, even with the right password ...
            assert_429(await attacker.post("/auth/token", data=login(*TEACHER)))
            # ... but may still sign in to another (its own) account.
            assert (await attacker.post("/auth/token", data=login(*ADMIN))).status_code == 200
        # The person signs in from where they are, as usual.
        async with from_address(stack, "10.3.0.2") as teacher:
            assert (await teacher.post("/auth/token", data=login(*TEACHER))).status_code == 200


async def test_a_success_forgives_the_accounts_earlier_mistakes(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    async with gateway_alone(
        pg_server, nats_clean, demo_specs, login_failures_per_account=3
    ) as stack:
        for _ in range(2):
            resp = await stack.gateway.post("/auth/token", data=login(TEACHER[0], "typo-typo"))
            assert resp.status_code == 401
        assert (await stack.gateway.post("/auth/token", data=login(*TEACHER))).status_code == 200
        for _ in range(2):
            resp = await stack.gateway.post("/auth/token", data=login(TEACHER[0], "typo-typo"))
            assert resp.status_code == 401
        assert (await stack.gateway.post("/auth/token", data=login(*TEACHER))).status_code == 200


@pytest.mark.parametrize("workers", [1])
async def test_the_hashing_pool_is_bounded(workers: int) -> None:
    from cpd_common.errors import ServiceUnavailable
    from cpd_gateway.identity import passwords

    pool = passwords.PasswordPool(workers=workers, queue=1)
    digest = passwords.hasher.hash("a-secret-for-the-test")
    try:
        checks = [asyncio.create_task(pool.verify(digest, "wrong")) for _ in range(2)]
        await asyncio.sleep(0)
        # Two in flight (one hashing, one queued): a third is refused at once, with Retry-After.
        with pytest.raises(ServiceUnavailable) as refused:
            await pool.verify(digest, "wrong")
        assert refused.value.headers and refused.value.headers["Retry-After"]
        assert await asyncio.gather(*checks) == [False, False]
        assert await pool.verify(digest, "a-secret-for-the-test") is True
    finally:
        pool.close()
