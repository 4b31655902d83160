"""login_burst: how much a burst of wrong-password sign-ins slows everyone else.

Issue 15 measured that about 4 wrong-password logins a second took the gateway's median
latency from 3 ms to 490 ms: argon2 ran on the event loop. Now hashing runs in a bounded,
lower-priority thread pool. This runs a gateway of its own (same code and database, with the
sign-in throttle's allowances made huge so every attempt really hashes: the worst case for the
pool; with the defaults a caller is throttled after 30 failures) and, round after round, takes
the p50 of a cheap signed-in read (``GET /v1/schools/{id}``, 1 connection) while quiet and
while ``ATTACKERS`` clients send wrong passwords back to back. Figure: the median over rounds
of p50(under the burst) / p50(quiet); the functional test asserts < 3x
(services/gateway/tests/test_login_throttle.py), so that is the bar here too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bench.config import Config, bar
from bench.load import Target, median, rounded, run_load
from bench.stack import Stack, log
from cpd_common.testing.servers import free_port
from cpd_demo.trust import NORTHFIELD

KEY = "gateway_burst"
PATH = f"/v1/schools/{NORTHFIELD}"
ATTACKERS = 4


async def _attack(url: str, i: int, stop: asyncio.Event, counts: dict[str, int]) -> None:
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            form = {
                "grant_type": "password",
                "username": f"nobody{i}@nowhere.example",
                "password": "wrong-guess",
            }
            async with session.post(url, data=form) as resp:
                await resp.read()
                counts[str(resp.status)] = counts.get(str(resp.status), 0) + 1


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    stack.ports[KEY] = free_port()
    port = stack.ports[KEY]
    env = stack.service_env("gateway", port=port)
    env.update(
        {
            "CPD_LOGIN_FAILURES_PER_ACCOUNT": "1000000000",
            "CPD_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS": "1000000000",
            "CPD_LOGIN_FAILURES_PER_ADDRESS": "1000000000",
            "CPD_RATE_LIMIT_PERSON_PER_MINUTE": "100000000",
        }
    )
    stack.procs.start(
        KEY, stack.uvicorn_args("cpd_gateway.main:create_app", port, factory=True), env
    )
    try:
        if not await asyncio.to_thread(stack.wait_ready, KEY, "/healthz", 60.0):
            raise RuntimeError(f"{KEY} did not start: {stack.errors.get(KEY)}")
        token = await asyncio.to_thread(stack._login, port)
        cheap = Target(
            "cheap_read",
            "GET",
            [stack.url(KEY, PATH)],
            headers={"Authorization": f"Bearer {token}"},
            cpu={"gateway": (stack.pid(KEY), False)},
        )
        await run_load(cheap, connections=1, seconds=0.7, warmup=0.3)
        rounds: list[dict[str, Any]] = []
        for r in range(cfg.rounds):
            quiet = await run_load(cheap, connections=1, seconds=cfg.seconds_1, warmup=cfg.warmup)
            stop = asyncio.Event()
            counts: dict[str, int] = {}
            started = time.monotonic()
            attackers = [
                asyncio.create_task(_attack(stack.url(KEY, "/auth/token"), i, stop, counts))
                for i in range(ATTACKERS)
            ]
            loud = await run_load(cheap, connections=1, seconds=cfg.seconds_1, warmup=cfg.warmup)
            stop.set()
            await asyncio.gather(*attackers)
            took = time.monotonic() - started
            q, lo = quiet.as_dict(), loud.as_dict()
            rounds.append(
                {
                    "round": r + 1,
                    "p50_ratio": lo["p50_ms"] / q["p50_ms"],
                    "p99_ratio": lo["p99_ms"] / q["p99_ms"],
                    "bad_logins_per_s": sum(counts.values()) / took,
                    "bad_login_statuses": counts,
                    "runs": {"quiet": q, "under_burst": lo},
                }
            )
            log(
                f"login_burst round {r + 1}: p50 {rounds[-1]['p50_ratio']:.2f}x under "
                f"{rounds[-1]['bad_logins_per_s']:.1f} bad logins/s"
            )
    finally:
        await asyncio.to_thread(stack.procs.stop, KEY)

    def fig(key: str, digits: int = 3) -> float | None:
        return rounded(median([rd[key] for rd in rounds]), digits)

    figures = {
        "p50_ratio_under_burst": fig("p50_ratio"),
        "p99_ratio_under_burst": fig("p99_ratio"),
        "bad_logins_per_s": fig("bad_logins_per_s", 1),
        "quiet_p50_ms": rounded(median([rd["runs"]["quiet"]["p50_ms"] for rd in rounds]), 4),
        "under_burst_p50_ms": rounded(
            median([rd["runs"]["under_burst"]["p50_ms"] for rd in rounds]), 4
        ),
    }
    return {
        "path": PATH,
        "attackers": ATTACKERS,
        "figures": figures,
        "bars": {
            "p50_ratio_under_burst (issue 15; the functional test's bound)": bar(
                figures["p50_ratio_under_burst"], 3.0, "<=", "x"
            )
        },
        "rounds": rounds,
    }
