"""event_lag: from an outbox row's commit in the gateway's database to the consuming service's
commit of the event (its inbox row), through the real relay (``python -m cpd_gateway.worker``),
NATS JetStream fsyncing every write, and the real consumer worker.

Producers in this process make ``directory.school.upserted`` events with
``cpd_common.events.add`` (the exact outbox row a request handler adds) and insert
each in its own transaction (one autocommit statement that also returns the transaction id;
an ORM session per event cost ~2 ms of CPU here, which alone would keep 1,000/s off schedule
on two cores) on a fixed schedule: event ``i`` is due at ``t0 + i / rate``; each run reports how late the
producers started (``producer_lateness``) and the rate achieved, so "producers on schedule"
is checked, not assumed.

Two lag figures, both from PostgreSQL's clock on the one server:
- ``lag_ms`` (as briefed): ``inbox.handled_at - outbox.created_at`` (both ``now()``, i.e. the
  start of the consumer's and of the producer's transaction);
- ``commit_lag_ms`` (DESIGN.md's definition, outbox commit to consumer commit): commit
  timestamps (``track_commit_timestamp = on``) of the producer's transaction (its xid is
  returned by the insert) and of the inbox row's inserting transaction.
``relay_pickup_ms`` = ``outbox.sent_at - created_at`` shows how fast the relay woke up.

Baseline floors, measured every round: a durable single-row commit on this PostgreSQL and a
JetStream publish acknowledged after fsync: the least any event can take is about one of each
plus the consumer's commit.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import time
from typing import Any

import asyncpg
import nats
from nats.js.api import StorageType, StreamConfig

from bench.config import Config, bar
from bench.load import median, percentile, rotate, rounded
from bench.procs import cpu_seconds, machine_cpu, online_cpus
from bench.stack import Stack, log
from cpd_common import events
from cpd_common.db import uuid7
from cpd_common.events import catalogue
from cpd_common.events.outbox import STREAM
from cpd_demo.trust import OAKRIDGE

IN_FLIGHT = 16  # producer transactions at once (the pool size)
# Longest wait for the consumer after a run, and for an idle pipeline before the next one:
# keeps the run bounded when the consumer is slower than the rate (late events then count
# as not consumed in time, i.e. infinitely late).
DRAIN_WAIT = 12.0
# The row events.add built, in one autocommit statement (its own transaction), with its xid.
INSERT = (
    "INSERT INTO outbox (event_id, type, subject, envelope) VALUES ($1, $2, $3, $4::jsonb) "
    "RETURNING pg_current_xact_id()::text"
)


class _Collect:
    """Stands in for the session: ``events.add`` hands it the outbox row it built."""

    row: Any = None

    def add(self, row: Any) -> None:
        self.row = row


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None


def _stats(values_ms: list[float]) -> dict[str, float | None]:
    v = sorted(values_ms)
    return {
        "p50_ms": rounded(percentile(v, 50), 3),
        "p90_ms": rounded(percentile(v, 90), 3),
        "p99_ms": rounded(percentile(v, 99), 3),
        "max_ms": rounded(v[-1], 3) if v else None,
    }


async def _wait_idle(stack: Stack, gw: asyncpg.Connection, js: Any, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = await gw.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        try:
            info = await js.consumer_info(STREAM, stack.consumer_durable)
            behind = info.num_pending + info.num_ack_pending
        except Exception:
            behind = 1  # the consumer is not set up yet
        if pending == 0 and behind == 0:
            return True
        await asyncio.sleep(0.1)
    return False


async def _floors(stack: Stack, js: Any, n: int = 100) -> dict[str, float | None]:
    conn = await asyncpg.connect(stack.dsn("postgres"))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, "
            "at timestamptz DEFAULT now())"
        )
        pg = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            await conn.execute("INSERT INTO bench_commit DEFAULT VALUES")
            pg.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        await conn.close()
    pub = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        await js.publish("bench.probe", b"x")
        pub.append((time.perf_counter_ns() - t0) / 1e6)
    pg.sort()
    pub.sort()
    return {
        "pg_durable_commit_p50_ms": rounded(percentile(pg, 50), 3),
        "pg_durable_commit_p99_ms": rounded(percentile(pg, 99), 3),
        "jetstream_publish_ack_p50_ms": rounded(percentile(pub, 50), 3),
        "jetstream_publish_ack_p99_ms": rounded(percentile(pub, 99), 3),
    }


async def _one_run(
    stack: Stack,
    pool: asyncpg.Pool,
    gw: asyncpg.Connection,
    consumer_db: asyncpg.Connection,
    rate: int,
    seconds: float,
) -> dict[str, Any]:
    n = int(rate * seconds)
    loop = asyncio.get_running_loop()
    sem = asyncio.Semaphore(IN_FLIGHT)
    xids: dict[str, str] = {}
    lateness: list[float] = []
    failures = 0

    async def produce(i: int, due: float) -> None:
        nonlocal failures
        async with sem:
            lateness.append((loop.time() - due) * 1000)
            school_id = uuid7()
            collected = _Collect()
            event = events.add(
                collected,  # type: ignore[arg-type]
                catalogue.SchoolUpserted(
                    school_id=school_id, trust_id=OAKRIDGE, name=f"Lag school {i}", phase="primary"
                ),
            )
            row = collected.row
            try:
                xid = await pool.fetchval(
                    INSERT,
                    row.event_id,
                    row.type,
                    row.subject,
                    json.dumps(row.envelope, separators=(",", ":")),
                )
            except Exception:
                failures += 1
                return
            xids[event.id] = xid

    helpers = {
        "relay": (stack.procs.pid("gateway-worker"), False),
        "consumer": (stack.procs.pid(f"{stack.consumer}-worker"), False),
        "postgres": (stack.postmaster_pid(), True),
        "nats": (stack.nats.proc.pid if stack.nats.proc else None, False),
    }

    def cpu_now() -> dict[str, float]:
        return {k: cpu_seconds(p, children=c) for k, (p, c) in helpers.items() if p}

    gc.collect()
    gc.disable()
    try:
        cpu_before, client_before, machine_before = cpu_now(), time.process_time(), machine_cpu()
        t0 = loop.time() + 0.05
        tasks = []
        for i in range(n):
            due = t0 + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(produce(i, due)))
        await asyncio.gather(*tasks)
        produced_in = loop.time() - t0
        cpu_after, client_after, machine_after = cpu_now(), time.process_time(), machine_cpu()
    finally:
        gc.enable()
    wall = max(1e-9, produced_in)
    cores = {k: round((cpu_after[k] - cpu_before[k]) / wall, 3) for k in cpu_after}
    cores["producer"] = round((client_after - client_before) / wall, 3)
    ticks = max(1, machine_after[1] - machine_before[1])
    busy = (machine_after[0] - machine_before[0]) / ticks * online_cpus()
    machine = {
        "busy_cores": round(busy, 3),
        "measured_cores": round(sum(cores.values()), 3),
        "other_cores": round(max(0.0, busy - sum(cores.values())), 3),
        "cores_by_process": cores,
    }

    ids = list(xids)
    # Wait for the consumer: until every event is in its inbox, or it stops making progress.
    seen, last_change, started = -1, time.monotonic(), time.monotonic()
    while True:
        count = await consumer_db.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])",
            stack.consumer_durable,
            ids,
        )
        if count == len(ids):
            break
        if count != seen:
            seen, last_change = count, time.monotonic()
        if time.monotonic() - last_change > 5 or time.monotonic() - started > DRAIN_WAIT:
            break
        await asyncio.sleep(0.1)
    drained_in = time.monotonic() - started
    cpu_drained = cpu_now()

    outbox = {
        str(r["event_id"]): r
        for r in await gw.fetch(
            "SELECT event_id, created_at, sent_at FROM outbox WHERE event_id = ANY($1::uuid[])", ids
        )
    }
    commits = {
        r["x"]: r["ts"]
        for r in await gw.fetch(
            "SELECT x, pg_xact_commit_timestamp(x::xid) AS ts FROM unnest($1::text[]) AS x",
            list(set(xids.values())),
        )
    }
    inbox = await consumer_db.fetch(
        "SELECT event_id, handled_at, pg_xact_commit_timestamp(xmin) AS ts FROM inbox "
        "WHERE consumer = $1 AND event_id = ANY($2::text[])",
        stack.consumer_durable,
        ids,
    )
    lag, commit_lag, pickup = [], [], []
    for row in inbox:
        out = outbox.get(row["event_id"])
        if out is None:
            continue
        lag.append((row["handled_at"] - out["created_at"]).total_seconds() * 1000)
        produced = commits.get(xids[row["event_id"]])
        if produced is not None and row["ts"] is not None:
            commit_lag.append((row["ts"] - produced).total_seconds() * 1000)
        if out["sent_at"] is not None:
            pickup.append((out["sent_at"] - out["created_at"]).total_seconds() * 1000)
    # An event not consumed in time counts as infinitely late (percentiles above the share
    # delivered come out as null, and fail their bar).
    missing = len(ids) - len(lag)
    lag += [math.inf] * missing
    commit_lag += [math.inf] * (len(ids) - len(commit_lag))
    lateness.sort()
    achieved = len(ids) / produced_in if produced_in > 0 else 0.0
    late_p99 = percentile(lateness, 99)
    return {
        "rate": rate,
        "events": n,
        "produced": len(ids),
        "producer_failures": failures,
        "delivered": len(inbox),
        "not_consumed_in_time": missing,
        "achieved_rate": round(achieved, 1),
        "producer_lateness_ms": {
            "p50": rounded(percentile(lateness, 50), 3),
            "p99": rounded(late_p99, 3),
            "max": rounded(lateness[-1], 3) if lateness else None,
        },
        "producers_on_schedule": bool(achieved >= 0.98 * rate and late_p99 <= 10.0),
        "consumer_caught_up_after_s": round(drained_in, 2),
        "lag_ms": _stats(lag),
        "commit_lag_ms": _stats(commit_lag),
        "relay_pickup_ms": _stats(pickup),
        "commit_timestamps": len(commit_lag),
        # From the first event produced until the consumer caught up (or gave up), per event
        # delivered: robust to other jobs on the machine, unlike the lag figures.
        "cpu_ms_per_event": {
            k: rounded((cpu_drained[k] - cpu_before[k]) * 1000 / max(1, len(inbox)), 4)
            for k in cpu_drained
        },
        "machine_while_producing": machine,
    }


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    if stack.consumer is None:
        return {"skipped": "no domain service worker consuming cpd.directory.> is running"}
    pool = await asyncpg.create_pool(
        stack.dsn("cpd_gateway"), min_size=IN_FLIGHT, max_size=IN_FLIGHT, reset=_no_reset
    )
    gw = await asyncpg.connect(stack.dsn("cpd_gateway"))
    consumer_db = await asyncpg.connect(stack.dsn(f"cpd_{stack.consumer}"))
    nc = await nats.connect(stack.nats.url)
    try:
        js = nc.jetstream()
        await js.add_stream(
            StreamConfig(
                name="BENCH", subjects=["bench.>"], storage=StorageType.FILE, max_msgs=10_000
            )
        )
        if not await _wait_idle(stack, gw, js):
            log("event_lag: the pipeline was not idle after 60 s; measuring anyway")
        # Warm the producer pool and the pipeline.
        await _one_run(stack, pool, gw, consumer_db, 100, 1.0)
        rounds: list[dict[str, Any]] = []
        for r in range(cfg.rounds):
            floors = await _floors(stack, js)
            runs = {}
            for rate in rotate(list(cfg.lag_rates), r):
                idle = await _wait_idle(stack, gw, js, timeout=DRAIN_WAIT)
                res = await _one_run(stack, pool, gw, consumer_db, rate, cfg.lag_duration(rate))
                res["pipeline_idle_at_start"] = idle
                runs[str(rate)] = res
                log(
                    f"event_lag round {r + 1} @{rate}/s: p50 {res['lag_ms']['p50_ms']} ms, "
                    f"p99 {res['lag_ms']['p99_ms']} ms (commit-to-commit p50 "
                    f"{res['commit_lag_ms']['p50_ms']}, p99 {res['commit_lag_ms']['p99_ms']}); "
                    f"{res['delivered']}/{res['events']} delivered, "
                    f"on schedule: {res['producers_on_schedule']}"
                )
            rounds.append({"round": r + 1, "floors": floors, "runs": runs})
    finally:
        await nc.close()
        await gw.close()
        await consumer_db.close()
        await pool.close()

    def med(rate: int, figure: str, key: str) -> float | None:
        vals = [rd["runs"][str(rate)][figure][key] for rd in rounds]
        return rounded(median([math.inf if v is None else v for v in vals]), 3)

    figures: dict[str, Any] = {}
    for rate in cfg.lag_rates:
        figures[f"{rate}/s"] = {
            "lag_p50_ms": med(rate, "lag_ms", "p50_ms"),
            "lag_p99_ms": med(rate, "lag_ms", "p99_ms"),
            "commit_lag_p50_ms": med(rate, "commit_lag_ms", "p50_ms"),
            "commit_lag_p99_ms": med(rate, "commit_lag_ms", "p99_ms"),
            "relay_pickup_p50_ms": med(rate, "relay_pickup_ms", "p50_ms"),
            "achieved_rate": median([rd["runs"][str(rate)]["achieved_rate"] for rd in rounds]),
            "producers_on_schedule_rounds": sum(
                rd["runs"][str(rate)]["producers_on_schedule"] for rd in rounds
            ),
            "delivered": sum(rd["runs"][str(rate)]["delivered"] for rd in rounds),
            "produced": sum(rd["runs"][str(rate)]["produced"] for rd in rounds),
            "cpu_ms_per_event": {
                k: rounded(
                    median([rd["runs"][str(rate)]["cpu_ms_per_event"][k] for rd in rounds]), 4
                )
                for k in rounds[0]["runs"][str(rate)]["cpu_ms_per_event"]
            }
            if rounds
            else {},
        }
    floor_keys = rounds[0]["floors"].keys() if rounds else []
    figures["floors"] = {
        k: rounded(median([rd["floors"][k] for rd in rounds]), 3) for k in floor_keys
    }
    bars: dict[str, Any] = {}
    for kind, prefix in (("lag", "lag"), ("commit-to-commit", "commit_lag")):
        if 200 in cfg.lag_rates:
            f = figures["200/s"]
            bars[f"{kind} p50 at 200/s"] = bar(f[f"{prefix}_p50_ms"], 5, "<=", " ms")
            bars[f"{kind} p99 at 200/s"] = bar(f[f"{prefix}_p99_ms"], 15, "<=", " ms")
        if 1000 in cfg.lag_rates:
            f = figures["1000/s"]
            bars[f"{kind} p99 at 1000/s"] = bar(f[f"{prefix}_p99_ms"], 25, "<=", " ms")
    for rate in cfg.lag_rates:
        f = figures[f"{rate}/s"]
        bars[f"producers on schedule at {rate}/s (rounds)"] = {
            "value": f"{f['producers_on_schedule_rounds']}/{cfg.rounds}",
            "bar": "every round",
            "pass": f["producers_on_schedule_rounds"] == cfg.rounds,
        }
        bars[f"every event delivered at {rate}/s"] = {
            "value": f"{f['delivered']}/{f['produced']}",
            "bar": "all",
            "pass": f["delivered"] == f["produced"],
        }
    return {
        "producer": "cpd_common.events.add builds each outbox row; one autocommit "
        f"INSERT per event (its own transaction), {IN_FLIGHT} in flight at most, asyncpg, in "
        "the benchmark process",
        "relay": "python -m cpd_gateway.worker",
        "consumer": f"python -m cpd_{stack.consumer}.worker (durable {stack.consumer_durable})",
        "figures": figures,
        "bars": bars,
        "rounds": rounds,
    }
