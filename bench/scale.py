"""``scale`` (issue 11, "Scale"): the same reads of one trust on a platform of 1 trust and of
10 trusts, side by side in every round.

Two sets of databases on the benchmark's PostgreSQL, each migrated like the others and
seeded with :func:`cpd_local.scale_seed.seed` (bulk ``COPY``, no events): ``_s1`` holds trust
1 (50 schools, 3,000 staff, a year of audits, needs, lesson studies, ~10,700 activities, and
the volume audits of 1k, 10k and 100k responses); ``_s10`` is a copy of it (``CREATE DATABASE
... TEMPLATE``) plus trusts 2 to 10. Each set gets its own four API processes, so every read
below is made by trust 1's admin (or QA client) against both, with the same ids and cursors,
and differs only by how many other trusts' rows the tables hold.

Each round measures every target at both scales, one connection, sequential requests for a
fixed window (at least ``min_requests``), in an order rotated every round; per round the
ratio p50(N=10) / p50(N=1), reported as the median over rounds.

The synced lists (``SYNC_TABLES``) are also read as a client's incremental sync reads them
(issue 14): ``?updated_since=`` the trust's median ``updated_at`` (first page), and a sync
from the start of the data (``updated_since`` = the trust's earliest ``updated_at``, so every
row of the trust comes): its first page and its page after 90% of the rows, reached by
following ``next_cursor`` with ``updated_since`` kept, as a client catching up would.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.parse
from typing import Any

import aiohttp
import asyncpg

from bench.config import Config, bar
from bench.load import median, percentile, rotate, rounded
from bench.stack import DOMAIN, MIGRATE, SERVICES, Stack, log, repo_root
from cpd_common.testing.servers import free_port
from cpd_local import scale_seed
from cpd_local.scale_data import (
    PASSWORD,
    QA_SECRET,
    VOLUME_AUDITS,
    admin_email,
    qa_client_id,
    trust_id,
    uid,
)

LISTS = {  # name: (path, service database, table for the deep cursor's depth)
    "people": ("/v1/people", "gateway", "people"),
    "audits": ("/v1/audits", "audit", "audits"),
    "needs": ("/v1/needs", "audit", "needs"),
    "lesson_studies": ("/v1/lesson-studies", "lessonstudy", "lesson_studies"),
    "activities": ("/v1/activities", "evaluation", "activities"),
}
SYNC_TABLES = ("people", "activities")  # the biggest synced lists (activities: 107k rows at N=10)


def _db(service: str, scale: int) -> str:
    return f"cpd_{service}_s{scale}"


def _migrate(stack: Stack, scale: int) -> None:
    procs = {}
    for name in SERVICES:
        stack.pg.create_database(_db(name, scale))
        service_dir = repo_root() / "services" / name
        procs[name] = subprocess.Popen(
            [sys.executable, "-c", MIGRATE, str(service_dir), stack.db_url(f"{name}_s{scale}")],
            cwd=service_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: migration failed: {out.decode(errors='replace')[-1500:]}")


async def prepare(stack: Stack, high: int) -> dict[str, Any]:
    """Migrates and seeds the ``_s1`` and ``_s{high}`` databases; returns seeding times."""
    t0 = time.monotonic()
    await asyncio.to_thread(_migrate, stack, 1)
    migrated = time.monotonic() - t0
    dsns = {name: stack.pg.url(_db(name, 1)) for name in SERVICES}
    s1 = await scale_seed.seed(dsns, range(1, 2), log=lambda m: log(f"scale N=1: {m}"))
    t1 = time.monotonic()
    for name in SERVICES:
        stack.pg.create_database(_db(name, high), template=_db(name, 1))
    copied = time.monotonic() - t1
    dsns = {name: stack.pg.url(_db(name, high)) for name in SERVICES}
    sn = await scale_seed.seed(dsns, range(2, high + 1), log=lambda m: log(f"scale N={high}: {m}"))
    return {
        "migrate_s": round(migrated, 1),
        "seed_n1_s": s1["seconds"],
        "copy_n1_to_n_s": round(copied, 1),
        f"seed_trusts_2_to_{high}_s": sn["seconds"],
        "rows_n1": s1["rows"],
        f"rows_added_for_n{high}": sn["rows"],
        "total_s": round(time.monotonic() - t0, 1),
    }


def start_apis(stack: Stack, scale: int) -> dict[str, str]:
    """The four APIs on the ``_s{scale}`` databases; returns service -> base URL."""
    keys = {name: f"{name}_s{scale}" for name in SERVICES}
    for key in keys.values():
        stack.ports[key] = free_port()
    gw_port = stack.ports[keys["gateway"]]
    for name, key in keys.items():
        env = stack.service_env(name, database=_db(name, scale), port=gw_port)
        if name == "gateway":
            for other in DOMAIN:
                env[f"CPD_{other.upper()}_URL"] = f"http://127.0.0.1:{stack.ports[keys[other]]}"
        stack.procs.start(
            key,
            stack.uvicorn_args(f"cpd_{name}.main:create_app", stack.ports[key], factory=True),
            env,
        )
    for key in keys.values():
        if not stack.wait_ready(key, "/healthz", timeout=90):
            raise RuntimeError(f"{key} did not start: {stack.errors.get(key)}")
    return {name: f"http://127.0.0.1:{stack.ports[key]}" for name, key in keys.items()}


async def _token(session: aiohttp.ClientSession, base: str, form: dict[str, str]) -> str:
    async with session.post(f"{base}/auth/token", data=form) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"sign-in failed at {base}: {body}")
        return str(body["access_token"])


async def _deep_cursor(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    depth: int,
    since: str | None = None,
) -> str | None:
    """The cursor after ``depth`` rows of a list (paging by 50, as a client would), of its
    ``updated_since=since`` sync when ``since`` is given (kept on every page, as it must be)."""
    seen, cursor = 0, None
    sync = f"updated_since={since}&" if since else ""
    while seen < depth:
        query = sync + (f"limit=50&cursor={cursor}" if cursor else "limit=50")
        async with session.get(f"{url}?{query}", headers=headers) as resp:
            page = await resp.json()
        seen += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return None
    return cursor


async def targets(stack: Stack, gateway: str) -> dict[str, tuple[str, bool]]:
    """name -> (path and query, whether the QA client reads it): the same at both scales."""
    tid = trust_id(1)
    admin: dict[str, str] = {}
    async with aiohttp.ClientSession() as session:
        admin["Authorization"] = "Bearer " + await _token(
            session,
            gateway,
            {"grant_type": "password", "username": admin_email(1), "password": PASSWORD},
        )
        out: dict[str, tuple[str, bool]] = {}
        for name, (path, service, table) in LISTS.items():
            start: str | None = None  # updated_since before every row of the trust
            conn = await asyncpg.connect(stack.dsn(_db(service, 1)))
            try:
                total = await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE trust_id = $1", tid
                )
                some_id = await conn.fetchval(
                    f"SELECT id FROM {table} WHERE trust_id = $1 ORDER BY id OFFSET $2 LIMIT 1",
                    tid,
                    total // 3,
                )
                if name in SYNC_TABLES:
                    mid = await conn.fetchval(
                        f"SELECT updated_at FROM {table} WHERE trust_id = $1 ORDER BY updated_at OFFSET $2 LIMIT 1",
                        tid,
                        total // 2,
                    )
                    since = urllib.parse.quote(mid.isoformat())
                    out[f"{name}_sync_page"] = (f"{path}?updated_since={since}&limit=50", False)
                    earliest = await conn.fetchval(
                        f"SELECT min(updated_at) FROM {table} WHERE trust_id = $1", tid
                    )
                    start = urllib.parse.quote(earliest.isoformat())
            finally:
                await conn.close()
            out[f"{name}_first_page"] = (f"{path}?limit=50", False)
            cursor = await _deep_cursor(session, f"{gateway}{path}", admin, int(total * 0.9))
            if cursor:
                out[f"{name}_deep_page"] = (f"{path}?limit=50&cursor={cursor}", False)
            if start:
                query = f"{path}?updated_since={start}&limit=50"
                out[f"{name}_sync_all_first_page"] = (query, False)
                cursor = await _deep_cursor(
                    session, f"{gateway}{path}", admin, int(total * 0.9), since=start
                )
                if cursor:
                    out[f"{name}_sync_all_deep_page"] = (f"{query}&cursor={cursor}", False)
            out[f"{name}_read"] = (f"{path}/{some_id}", False)
    for n in VOLUME_AUDITS:
        out[f"audit_results_{n // 1000}k"] = (
            f"/v1/audits/{uid('audit', 1, f'volume-{n}')}/results",
            False,
        )
    # A breakdown (50 school cells, suppression over every table): stored at close too.
    for n in VOLUME_AUDITS[1:]:
        out[f"audit_results_{n // 1000}k_by_school"] = (
            f"/v1/audits/{uid('audit', 1, f'volume-{n}')}/results?by=school",
            False,
        )
    out["trust_dashboard"] = ("/v1/dashboards/trust", False)
    out["qa_metrics"] = ("/v1/metrics", True)
    return out


async def _time(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    seconds: float,
    min_requests: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    for _ in range(2):  # warm-up
        async with session.get(url, headers=headers) as resp:
            await resp.read()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(latencies) < min_requests:
        t0 = time.perf_counter_ns()
        async with session.get(url, headers=headers) as resp:
            await resp.read()
            statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
        latencies.append((time.perf_counter_ns() - t0) / 1e6)
    values = sorted(latencies)
    return {
        "requests": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p90_ms": round(percentile(values, 90), 3),
        "statuses": statuses,
    }


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    high = cfg.scale_high
    load_start = os.getloadavg()
    seeding = await prepare(stack, high)
    log(f"scale: seeded N=1 and N={high} in {seeding['total_s']}s")
    bases = {1: start_apis(stack, 1), high: start_apis(stack, high)}
    try:
        plan = await targets(stack, bases[1]["gateway"])
        headers: dict[int, dict[bool, dict[str, str]]] = {}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            for scale, base in bases.items():
                gw = base["gateway"]
                person = await _token(
                    session,
                    gw,
                    {"grant_type": "password", "username": admin_email(1), "password": PASSWORD},
                )
                client = await _token(
                    session,
                    gw,
                    {
                        "grant_type": "client_credentials",
                        "client_id": qa_client_id(1),
                        "client_secret": QA_SECRET,
                    },
                )
                headers[scale] = {
                    False: {"Authorization": f"Bearer {person}"},
                    True: {"Authorization": f"Bearer {client}"},
                }
            rounds: list[dict[str, Any]] = []
            names = list(plan)
            for r in range(cfg.rounds):
                runs: dict[str, dict[str, Any]] = {}
                for name in rotate(names, r):
                    path, qa = plan[name]
                    for scale in rotate([1, high], r):
                        runs[f"{name}@N{scale}"] = await _time(
                            session,
                            bases[scale]["gateway"] + path,
                            headers[scale][qa],
                            cfg.scale_seconds,
                            cfg.scale_min_requests,
                        )
                rounds.append({"round": r + 1, "runs": runs})
                log(f"scale round {r + 1} done")
    finally:
        for scale in bases:
            for name in SERVICES:
                stack.procs.stop(f"{name}_s{scale}")
    return summarise(plan, rounds, high, seeding, load_start)


def summarise(
    plan: dict[str, Any],
    rounds: list[dict[str, Any]],
    high: int,
    seeding: dict[str, Any],
    load_start: tuple[float, ...],
) -> dict[str, Any]:
    def p50(name: str, scale: int) -> float | None:
        return rounded(median([rd["runs"][f"{name}@N{scale}"]["p50_ms"] for rd in rounds]), 3)

    def growth(name: str) -> float | None:
        return rounded(
            median(
                [
                    rd["runs"][f"{name}@N{high}"]["p50_ms"] / rd["runs"][f"{name}@N1"]["p50_ms"]
                    for rd in rounds
                ]
            ),
            3,
        )

    bad = {
        f"{n}@N{s}": st
        for rd in rounds
        for k, run in rd["runs"].items()
        for n in [k.split("@")[0]]
        for s in [k.split("@N")[1]]
        for st in [run["statuses"]]
        if set(st) != {"200"}
    }
    figures: dict[str, Any] = {
        name: {
            "p50_ms_n1": p50(name, 1),
            f"p50_ms_n{high}": p50(name, high),
            "growth": growth(name),
        }
        for name in plan
    }
    bars: dict[str, Any] = {
        f"{name} p50 growth N=1 -> N={high}": bar(figures[name]["growth"], 1.5, "<=", "x")
        for name in plan
        if not name.startswith("audit_results_") and name not in ("trust_dashboard", "qa_metrics")
    }
    r10, r100 = p50("audit_results_10k", 1), p50("audit_results_100k", 1)
    bars["audit_results_10k p50 (10k responses x 8 items)"] = bar(r10, 50, "<=", " ms")
    linear = rounded(r100 / r10 / 10, 3) if r10 and r100 else None
    bars["audit_results 100k / (10 x 10k) (linear = 1.0)"] = bar(linear, 1.0, "<=", "x")
    b10, b100 = p50("audit_results_10k_by_school", 1), p50("audit_results_100k_by_school", 1)
    bars["audit_results_10k_by_school p50 (50 cells)"] = bar(b10, 50, "<=", " ms")
    linear = rounded(b100 / b10 / 10, 3) if b10 and b100 else None
    bars["audit_results_by_school 100k / (10 x 10k) (linear = 1.0)"] = bar(linear, 1.0, "<=", "x")
    bars["trust_dashboard p50 (50 schools)"] = bar(p50("trust_dashboard", 1), 150, "<=", " ms")
    for name in SYNC_TABLES:
        sync, first = p50(f"{name}_sync_page", high), p50(f"{name}_first_page", high)
        figures[f"{name}_sync_vs_first_page_at_n{high}"] = (
            rounded(sync / first, 3) if sync and first else None
        )
        if f"{name}_sync_all_deep_page" in plan and f"{name}_deep_page" in plan:
            deep_sync = p50(f"{name}_sync_all_deep_page", high)
            deep = p50(f"{name}_deep_page", high)
            figures[f"{name}_sync_all_deep_vs_deep_page_at_n{high}"] = (
                rounded(deep_sync / deep, 3) if deep_sync and deep else None
            )
    return {
        "scales": [1, high],
        "seeding": seeding,
        "loadavg_at_start": list(load_start),
        "loadavg_at_end": list(os.getloadavg()),
        "figures": figures,
        "bars": bars,
        "non_200": bad,
        "paths": {name: path for name, (path, _) in plan.items()},
        "rounds": rounds,
    }
