"""read_endpoint: the gateway's ``GET /v1/schools/{id}`` (served by the gateway itself: token,
SQLAlchemy, pydantic, ETag) against a minimal FastAPI app doing the same read with raw asyncpg
(``bench.apps.rawdb``), with and without verifying the token; and the SQL round trips one
such read costs, counted by PostgreSQL.

Round trips: ``pg_stat_database.xact_commit`` / ``xact_rollback`` of a copy of the gateway's
database that only the counted process uses. Each statement outside an explicit transaction
is one commit; a stray BEGIN ... ROLLBACK shows as one rollback. See
:func:`count_round_trips` for how the counters are made exact. The raw app is counted the same
way as a check of the method (it must come out at 1.00).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import asyncpg

from bench.config import Config, bar
from bench.load import Target, cpu_bound_ratio, cpu_figures, median, rotate, rounded, run_load
from bench.stack import ROUND_TRIP_DB, Stack, log
from cpd_demo.trust import NORTHFIELD

PATH = f"/v1/schools/{NORTHFIELD}"


async def _db_counters(stack: Stack) -> tuple[int, int]:
    conn = await asyncpg.connect(stack.dsn("postgres"))
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        row = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = $1",
            ROUND_TRIP_DB,
        )
        return int(row["xact_commit"]), int(row["xact_rollback"])
    finally:
        await conn.close()


async def _backends(stack: Stack) -> int:
    conn = await asyncpg.connect(stack.dsn("postgres"))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", ROUND_TRIP_DB
            )
        )
    finally:
        await conn.close()


async def count_round_trips(stack: Stack, key: str, n: int = 200) -> dict[str, Any]:
    """SQL transactions per request of a fresh process (``gateway_rt`` or ``raw_rt``) on the
    round-trip database, from ``pg_stat_database``.

    A backend publishes its counters at the end of a transaction once a second has passed
    since it last did (before it answers), otherwise only after 10 s idle. Requests are
    sequential, so the fresh process holds few pooled connections (the gateway two: its
    login opens the key ring's session inside the request's), used in turn. To make the
    counters exact, "flush": one request per connected backend (+1), each after 1.1 s of
    quiet. Snapshot, N requests, flush, snapshot: delta / (N + flush requests)."""
    if key == "gateway_rt":
        stack.start_api("gateway", key=key, database=ROUND_TRIP_DB)
    else:
        stack.start_raw(key=key, database=ROUND_TRIP_DB)
    try:
        if not await asyncio.to_thread(stack.wait_ready, key, "/healthz", 60.0):
            raise RuntimeError(f"{key} did not start: {stack.errors.get(key)}")
        headers = {}
        if key == "gateway_rt":
            token = await asyncio.to_thread(stack._login, stack.ports[key])
            headers = {"Authorization": f"Bearer {token}"}
        statuses: dict[str, int] = {}
        url = stack.url(key, PATH)
        async with aiohttp.ClientSession() as session:

            async def get(count: int) -> None:
                for _ in range(count):
                    async with session.get(url, headers=headers) as resp:
                        await resp.read()
                        statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1

            async def flush() -> int:
                backends = await _backends(stack)
                for _ in range(backends + 1):
                    await asyncio.sleep(1.1)
                    await get(1)
                return backends + 1

            await get(5)  # warm: prepared statements, key ring
            await flush()
            c1, r1 = await _db_counters(stack)
            await get(n)
            flushes = await flush()
            c2, r2 = await _db_counters(stack)
            backends = await _backends(stack)
    finally:
        await asyncio.to_thread(stack.procs.stop, key)
    requests = n + flushes
    return {
        "commits_per_request": round((c2 - c1) / requests, 3),
        "rollbacks_per_request": round((r2 - r1) / requests, 3),
        "raw": {
            "requests": requests,
            "commits": c2 - c1,
            "rollbacks": r2 - r1,
            "pooled_connections": backends,
        },
        "statuses": statuses,
    }


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {stack.token}"}
    pg = (stack.postmaster_pid(), True)
    targets = {
        "gateway": Target(
            "gateway",
            "GET",
            [stack.url("gateway", PATH)],
            headers=auth,
            cpu={"gateway": (stack.pid("gateway"), False), "postgres": pg},
        ),
        "raw_asyncpg": Target(
            "raw_asyncpg",
            "GET",
            [stack.url("raw", PATH)],
            cpu={"raw": (stack.pid("raw"), False), "postgres": pg},
        ),
        "raw_asyncpg_jwt": Target(
            "raw_asyncpg_jwt",
            "GET",
            [stack.url("raw", "/jwt" + PATH)],
            headers=auth,
            cpu={"raw": (stack.pid("raw"), False), "postgres": pg},
        ),
    }
    order = list(targets)
    for name in order:
        await run_load(targets[name], connections=cfg.connections, seconds=0.7, warmup=0.3)
    n = cfg.connections
    rounds: list[dict[str, Any]] = []
    for r in range(cfg.rounds):
        runs: dict[str, Any] = {}
        for conns in (1, n):
            for name in rotate(order, r):
                res = await run_load(
                    targets[name], connections=conns, seconds=cfg.seconds(conns), warmup=cfg.warmup
                )
                runs[f"{name}@{conns}"] = res.as_dict()
        g1, b1, j1 = runs["gateway@1"], runs["raw_asyncpg@1"], runs["raw_asyncpg_jwt@1"]
        gn, bn, jn = runs[f"gateway@{n}"], runs[f"raw_asyncpg@{n}"], runs[f"raw_asyncpg_jwt@{n}"]
        rounds.append(
            {
                "round": r + 1,
                "p50_ratio_at_1": g1["p50_ms"] / b1["p50_ms"],
                f"p50_ratio_at_{n}": gn["p50_ms"] / bn["p50_ms"],
                f"throughput_ratio_at_{n}": gn["rps"] / bn["rps"],
                f"gateway_p99_ms_at_{n}": gn["p99_ms"],
                "vs_jwt_p50_ratio_at_1": g1["p50_ms"] / j1["p50_ms"],
                f"vs_jwt_throughput_ratio_at_{n}": gn["rps"] / jn["rps"],
                "runs": runs,
            }
        )
        log(
            f"read_endpoint round {r + 1}: p50 {rounds[-1]['p50_ratio_at_1']:.2f}x @1, "
            f"{rounds[-1][f'p50_ratio_at_{n}']:.2f}x @{n}, "
            f"throughput {rounds[-1][f'throughput_ratio_at_{n}']:.2f}x"
        )

    log("read_endpoint: counting SQL round trips per read ...")
    trips = {
        "gateway": await count_round_trips(stack, "gateway_rt"),
        "raw_asyncpg (method check)": await count_round_trips(stack, "raw_rt"),
    }

    def fig(key: str, digits: int = 3) -> float | None:
        return rounded(median([rd[key] for rd in rounds]), digits)

    def med(key: str, target: str, conns: int) -> float:
        return median([rd["runs"][f"{target}@{conns}"][key] for rd in rounds])

    cpu = cpu_figures(rounds, [f"{t}@{c}" for t in order for c in (1, n)])
    figures = {
        "p50_ratio_at_1": fig("p50_ratio_at_1"),
        f"p50_ratio_at_{n}": fig(f"p50_ratio_at_{n}"),
        f"throughput_ratio_at_{n}": fig(f"throughput_ratio_at_{n}"),
        f"gateway_p99_ms_at_{n}": fig(f"gateway_p99_ms_at_{n}", 2),
        "vs_jwt_p50_ratio_at_1": fig("vs_jwt_p50_ratio_at_1"),
        f"vs_jwt_throughput_ratio_at_{n}": fig(f"vs_jwt_throughput_ratio_at_{n}"),
        "sql_commits_per_read": trips["gateway"]["commits_per_request"],
        "sql_rollbacks_per_read": trips["gateway"]["rollbacks_per_request"],
        # Contention-robust cross-checks (estimates, not the bar figures):
        f"gateway_cpu_ms_per_read_at_{n}": cpu[f"gateway@{n}"].get("gateway"),
        f"raw_cpu_ms_per_read_at_{n}": cpu[f"raw_asyncpg@{n}"].get("raw"),
        f"cpu_bound_throughput_ratio_estimate_at_{n}": cpu_bound_ratio(
            cpu, f"gateway@{n}", f"raw_asyncpg@{n}"
        ),
    }
    gw_trips = trips["gateway"]
    one_trip = (
        gw_trips["commits_per_request"] + gw_trips["rollbacks_per_request"]
        if gw_trips["rollbacks_per_request"] is not None
        else None
    )
    return {
        "path": PATH,
        "figures": figures,
        "bars": {
            f"p50_ratio_at_{n}": bar(figures[f"p50_ratio_at_{n}"], 1.5, "<=", "x"),
            "p50_ratio_at_1 (same bar, for information)": bar(
                figures["p50_ratio_at_1"], 1.5, "<=", "x"
            ),
            f"throughput_ratio_at_{n}": bar(figures[f"throughput_ratio_at_{n}"], 0.6, ">=", "x"),
            f"gateway_p99_ms_at_{n}": bar(figures[f"gateway_p99_ms_at_{n}"], 50, "<=", " ms"),
            "sql_round_trips_per_read": {
                "value": one_trip,
                "bar": "1 (one statement, no BEGIN/ROLLBACK)",
                "pass": None
                if one_trip is None
                else abs(gw_trips["commits_per_request"] - 1) < 0.05
                and gw_trips["rollbacks_per_request"] < 0.05,
            },
        },
        "round_trips": trips,
        "cpu_ms_per_request": cpu,
        "absolute_medians": {
            f"{t}@{c}": {
                "p50_ms": rounded(med("p50_ms", t, c), 4),
                "p99_ms": rounded(med("p99_ms", t, c), 4),
                "rps": rounded(med("rps", t, c), 1),
                "client_cpu_share": rounded(med("client_cpu_share", t, c), 3),
            }
            for t in order
            for c in (1, n)
        },
        "rounds": rounds,
    }
