"""A closed-loop HTTP load generator (aiohttp) and the statistics the benchmarks report.

``N`` connections, each a task sending one request after another for a fixed time; every
request's latency is taken with ``time.perf_counter_ns``. The generator runs in the benchmark
process and competes with the servers for the same cores: each run reports how much CPU it
used (``client_cpu_share``: CPU seconds per wall second, 1.0 = one core) and how much each
server process used per request.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from bench.procs import cpu_seconds, machine_cpu, online_cpus


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (``q`` in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def median(values: Sequence[float]) -> float:
    clean = sorted(v for v in values if not math.isnan(v))
    if not clean:
        return math.nan
    mid = len(clean) // 2
    return clean[mid] if len(clean) % 2 else (clean[mid - 1] + clean[mid]) / 2


def summary_ms(latencies_ns: Sequence[int]) -> dict[str, float]:
    values = sorted(latencies_ns)
    return {
        "p50_ms": round(percentile(values, 50) / 1e6, 4),
        "p90_ms": round(percentile(values, 90) / 1e6, 4),
        "p99_ms": round(percentile(values, 99) / 1e6, 4),
        "max_ms": round(values[-1] / 1e6, 4) if values else math.nan,
    }


@dataclass
class Target:
    """One kind of request: ``urls`` are cycled through (e.g. random ids)."""

    name: str
    method: str
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: frozenset[int] = frozenset({200})
    # Server processes whose CPU use is accounted per request: name -> (pid, with children).
    cpu: dict[str, tuple[int, bool]] = field(default_factory=dict)


@dataclass
class RunResult:
    target: str
    connections: int
    seconds: float
    requests: int
    rps: float
    latency: dict[str, float]
    statuses: dict[str, int]
    errors: int
    client_cpu_share: float
    cpu_ms_per_request: dict[str, float]
    machine: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "connections": self.connections,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "rps": round(self.rps, 1),
            **self.latency,
            "statuses": self.statuses,
            "errors": self.errors,
            "client_cpu_share": round(self.client_cpu_share, 3),
            "cpu_ms_per_request": self.cpu_ms_per_request,
            "machine": self.machine,
        }


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=connections, limit_per_host=connections, keepalive_timeout=60
        ),
        timeout=aiohttp.ClientTimeout(total=30),
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent",),
        auto_decompress=False,
    )


async def run_load(
    target: Target, *, connections: int, seconds: float, warmup: float = 0.5
) -> RunResult:
    """``connections`` closed-loop clients for ``warmup`` + ``seconds``; only requests that
    start inside the measured window count for latency, only those completing in it for
    throughput."""
    urls = [URL(u, encoded=True) for u in target.urls]
    n_urls = len(urls)
    loop_clock = time.perf_counter_ns
    records: list[tuple[int, int, int]] = []  # (start, end, status)
    failures: Counter[str] = Counter()
    method = target.method
    headers = target.headers
    body = target.body

    async with _session(connections) as session:
        now = loop_clock()
        start = now + int(warmup * 1e9)
        end = start + int(seconds * 1e9)

        async def client(k: int) -> None:
            i = k
            while True:
                t0 = loop_clock()
                if t0 >= end:
                    return
                url = urls[i % n_urls]
                i += connections
                try:
                    async with session.request(
                        method, url, headers=headers, data=body, allow_redirects=False
                    ) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    failures[type(exc).__name__] += 1
                    status = 0
                    await asyncio.sleep(0.01)
                t1 = loop_clock()
                if t0 >= start:
                    records.append((t0, t1, status))

        gc.collect()
        gc.disable()
        try:
            tasks = [asyncio.create_task(client(k)) for k in range(connections)]
            # CPU accounting starts with the measured window.
            await asyncio.sleep(max(0.0, (start - loop_clock()) / 1e9))
            cpu_before = {n: cpu_seconds(p, children=c) for n, (p, c) in target.cpu.items()}
            client_before = time.process_time()
            machine_before = machine_cpu()
            wall_before = loop_clock()
            await asyncio.sleep(max(0.0, (end - loop_clock()) / 1e9))
            client_after = time.process_time()
            machine_after = machine_cpu()
            wall_after = loop_clock()
            cpu_after = {n: cpu_seconds(p, children=c) for n, (p, c) in target.cpu.items()}
            await asyncio.gather(*tasks)
        finally:
            gc.enable()

    window = (end - start) / 1e9
    done = [r for r in records if r[1] <= end]
    statuses = Counter(str(r[2]) for r in records)
    errors = sum(1 for r in records if r[2] not in target.expect)
    latency = summary_ms([r[1] - r[0] for r in records])
    wall = max(1e-9, (wall_after - wall_before) / 1e9)
    per_req = max(1, len(done))
    cpu = {n: round((cpu_after[n] - cpu_before[n]) * 1000 / per_req, 4) for n in target.cpu} | {
        "client": round((client_after - client_before) * 1000 / per_req, 4)
    }
    ticks = max(1, machine_after[1] - machine_before[1])
    cpus = online_cpus()
    busy = (machine_after[0] - machine_before[0]) / ticks * cpus
    ours = (client_after - client_before) / wall + sum(
        cpu_after[n] - cpu_before[n] for n in target.cpu
    ) / wall
    machine = {
        # Cores busy on the whole machine, cores used by the load generator and the servers
        # measured, and the rest: other work on the machine (or our idle helpers).
        "busy_cores": round(busy, 3),
        "measured_cores": round(ours, 3),
        "other_cores": round(max(0.0, busy - ours), 3),
        "steal_cores": round((machine_after[2] - machine_before[2]) / ticks * cpus, 3),
    }
    if failures:
        statuses.update({f"error:{k}": v for k, v in failures.items()})
    return RunResult(
        target=target.name,
        connections=connections,
        seconds=window,
        requests=len(done),
        rps=len(done) / window,
        latency=latency,
        statuses=dict(statuses),
        errors=errors,
        client_cpu_share=(client_after - client_before) / wall,
        cpu_ms_per_request=cpu,
        machine=machine,
    )


async def one_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    data: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
        session.request(method, url, headers=headers, data=body if body is not None else data) as r,
    ):
        return r.status, await r.read()


def rotate(items: Sequence[Any], k: int) -> list[Any]:
    """Round ``k``'s order of the targets: rotating cancels drift within a round."""
    k %= max(1, len(items))
    return list(items[k:]) + list(items[:k])


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def rounded(value: float, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def check(value: float | None, op: Callable[[float], bool]) -> bool | None:
    return None if value is None or math.isnan(value) else bool(op(value))


def cores() -> int:
    return len(os.sched_getaffinity(0))


def cpu_figures(
    rounds: Sequence[dict[str, Any]], run_keys: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    """Median over rounds of each process's CPU ms per request, per run key, and ``server``:
    everything but the load generator. CPU time per request barely changes when other jobs
    share the cores, unlike latency and throughput: a cross-check on a busy machine."""
    out: dict[str, dict[str, float | None]] = {}
    for key in run_keys:
        per_round = [rd["runs"][key]["cpu_ms_per_request"] for rd in rounds if key in rd["runs"]]
        names = sorted({n for cpu in per_round for n in cpu})
        fig = {n: rounded(median([cpu.get(n, math.nan) for cpu in per_round]), 3) for n in names}
        fig["server"] = rounded(
            median([sum(v for n, v in cpu.items() if n != "client") for cpu in per_round]), 3
        )
        out[key] = fig
    return out


def cpu_bound_ratio(
    cpu: dict[str, dict[str, float | None]], target: str, base: str
) -> float | None:
    """Throughput ratio target/base if the servers were CPU-bound: base CPU / target CPU."""
    t, b = cpu[target].get("server"), cpu[base].get("server")
    return rounded(b / t, 3) if t and b else None
