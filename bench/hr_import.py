"""hr_import: 10,000 people by CSV through the gateway (DESIGN.md section 9, "HR import":
<= 10 s including their events, and SCIM create p50 <= 20 ms), timed from the upload until the gateway's relay has
published every ``directory.person.upserted`` the import wrote; then the same file again
(an idempotent no-op: no change, no event). The baseline: the same 10,000 people and their
outbox rows copied into scratch tables by raw asyncpg ``COPY``, the database's floor.

Each round imports new people (their external ids and emails carry the round), so every
round creates all 10,000. Then ``SCIM_CREATES`` Users one after another with the demo HR
client (``POST /scim/v2/Users``, 1 connection): the median and p99 latency.
``python -m bench --only hr_import`` runs it alone.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aiohttp
import asyncpg
import nats

from bench.config import Config, bar
from bench.load import median, rounded
from bench.procs import cpu_seconds
from bench.stack import Stack, log
from cpd_common.db import uuid7
from cpd_common.events.outbox import STREAM
from cpd_demo.trust import NORTHFIELD, SOUTHBANK, TRUSTS

ROWS = 10_000
BAR_SECONDS = 10.0
SCIM_CREATES = 300
SCIM_BAR_MS = 20.0
HR_CLIENT = ("demo-hr", "demo-hr-secret-2026")
TRUST = TRUSTS[0]["id"]
HEADER = "external_id,email,given_name,family_name,schools,staff_group,department,fte,start_date"
GROUPS = ("teacher", "teaching_assistant", "support", "leader")


def csv_body(tag: str) -> bytes:
    lines = [HEADER]
    for i in range(ROWS):
        school = NORTHFIELD if i % 3 else SOUTHBANK
        lines.append(
            f"B{tag}-{i:05d},p{i:05d}.{tag}@bench.example,Pat{i},Bench{tag},{school},"
            f"{GROUPS[i % len(GROUPS)]},Dept {i % 12},{0.5 + (i % 6) / 10:.1f},2024-09-01"
        )
    return ("\n".join(lines) + "\n").encode()


async def _import(http: aiohttp.ClientSession, url: str, token: str, body: bytes) -> Any:
    async with http.post(
        url, data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    ) as resp:
        payload = await resp.json(content_type=None)
        if resp.status != 200:
            raise RuntimeError(f"import answered {resp.status}: {str(payload)[:500]}")
    return payload


async def _scim_creates(http: aiohttp.ClientSession, stack: Stack) -> list[float]:
    async with http.post(
        stack.url("gateway", "/auth/token"),
        data={
            "grant_type": "client_credentials",
            "client_id": HR_CLIENT[0],
            "client_secret": HR_CLIENT[1],
        },
    ) as resp:
        token = (await resp.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    url = stack.url("gateway", "/scim/v2/Users")
    tag = uuid.uuid4().hex[:6]
    latencies = []
    for i in range(SCIM_CREATES + 20):
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": f"scim{i}.{tag}",
            "externalId": f"S{tag}-{i}",
            "name": {"givenName": f"Sam{i}", "familyName": "Scim"},
            "emails": [{"value": f"scim{i}.{tag}@bench.example", "primary": True}],
        }
        t0 = time.perf_counter()
        async with http.post(url, data=json.dumps(body), headers=headers) as resp:
            await resp.read()
            if resp.status != 201:
                raise RuntimeError(f"SCIM create answered {resp.status}")
        if i >= 20:  # the first ones warm up
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


async def _relayed(conn: asyncpg.Connection, timeout: float = 120.0) -> None:
    """Waits until the gateway's outbox has nothing left to publish."""
    deadline = time.monotonic() + timeout
    while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
        if time.monotonic() > deadline:
            raise RuntimeError("the relay did not publish the import's events in time")
        await asyncio.sleep(0.02)


async def _consumers_idle(js: Any, timeout: float = 120.0) -> float:
    """Waits until every durable consumer of the stream (the domain worker's, the gateway's
    webhooks) has handled what was published; returns how long that took. Each round then
    starts on an idle pipeline: the previous round's 10,000 events are not still being
    consumed (on the same cores and PostgreSQL) while the next import is timed."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        behind = sum(c.num_pending + c.num_ack_pending for c in await js.consumers_info(STREAM))
        if behind == 0:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - t0


async def _raw_copy(conn: asyncpg.Connection, tag: str) -> float:
    """The same people and one outbox row each, by COPY into scratch tables, one transaction."""
    people, events = [], []
    for i in range(ROWS):
        pid = uuid7()
        people.append(
            (pid, TRUST, f"Pat{i} Bench{tag}", f"p{i:05d}.{tag}@raw.example", f"B{tag}-{i:05d}")
        )
        data = {"person_id": str(pid), "trust_id": str(TRUST), "active": True}
        events.append(
            (uuid.uuid4(), str(pid), "cpd.directory.person.upserted.v1", json.dumps(data))
        )
    t0 = time.perf_counter()
    async with conn.transaction():
        await conn.copy_records_to_table(
            "bench_people", records=people, columns=["id", "trust_id", "name", "email", "ext"]
        )
        await conn.copy_records_to_table(
            "bench_outbox", records=events, columns=["event_id", "subject", "type", "envelope"]
        )
    return time.perf_counter() - t0


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    url = stack.url("gateway", "/v1/imports/people")
    conn = await asyncpg.connect(stack.dsn("cpd_gateway"))
    await conn.execute(
        "CREATE TEMP TABLE bench_people (id uuid PRIMARY KEY, trust_id uuid, name text,"
        " email text UNIQUE, ext text)"
    )
    await conn.execute(
        "CREATE TEMP TABLE bench_outbox (seq bigserial PRIMARY KEY, event_id uuid, subject text,"
        " type text, envelope jsonb)"
    )
    processes = {
        "gateway": (stack.pid("gateway"), False),
        "postgres": (stack.postmaster_pid(), True),
        "relay": (stack.pid("gateway-worker"), False),
        "nats": (stack.nats.proc.pid if stack.nats.proc else 0, False),
    }
    if stack.consumer and stack.procs.pid(f"{stack.consumer}-worker"):
        # The domain worker projecting the people (information: it consumes while the relay
        # publishes, on the same cores).
        processes["consumer"] = (stack.pid(f"{stack.consumer}-worker"), False)

    def cpu_now() -> dict[str, float]:
        return {k: cpu_seconds(pid, children=c) for k, (pid, c) in processes.items() if pid}

    rounds: list[dict[str, Any]] = []
    scim_ms: list[float] = []
    scim_cpu: dict[str, float] = {}
    nc = await nats.connect(stack.nats.url)
    js = nc.jetstream()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
            await _relayed(conn)
            for r in range(cfg.rounds):
                tag = f"{r}{uuid.uuid4().hex[:5]}"
                body = csv_body(tag)
                waited = await _consumers_idle(js)
                before = cpu_now()
                t0 = time.perf_counter()
                report = await _import(http, url, stack.token, body)
                answered = time.perf_counter() - t0
                await _relayed(conn)
                with_events = time.perf_counter() - t0
                after = cpu_now()
                consumed = await _consumers_idle(js) + with_events
                if len(report["created"]) != ROWS:
                    raise RuntimeError(f"{len(report['created'])} created, not {ROWS}")
                t1 = time.perf_counter()
                again = await _import(http, url, stack.token, body)
                no_op = time.perf_counter() - t1
                if again["applied"] or again["unchanged"] != ROWS:
                    raise RuntimeError("importing the same file again changed something")
                raw = await _raw_copy(conn, tag)
                rounds.append(
                    {
                        "round": r + 1,
                        "answered_s": answered,
                        "with_events_s": with_events,
                        "same_file_again_s": no_op,
                        "raw_copy_s": raw,
                        "consumers_idle_wait_s": round(waited, 3),
                        "consumed_s": round(consumed, 3),
                        "cpu_s": {k: round(after[k] - before[k], 3) for k in after},
                    }
                )
                log(
                    f"hr_import round {r + 1}: answered {answered:.2f}s, with events "
                    f"{with_events:.2f}s, consumed {consumed:.2f}s, again {no_op:.2f}s, "
                    f"raw COPY {raw:.2f}s"
                )
            await _relayed(conn)
            await _consumers_idle(js)
            before = cpu_now()
            scim_ms = sorted(await _scim_creates(http, stack))
            await _relayed(conn)
            await _consumers_idle(js)
            after = cpu_now()
            # CPU per create of each process, the create's event relayed and consumed
            # included: the figure other jobs on the machine barely move.
            scim_cpu = {k: (after[k] - before[k]) * 1000 / (SCIM_CREATES + 20) for k in after}
    finally:
        await nc.close()
        await conn.close()

    def med(key: str) -> float:
        return median([rd[key] for rd in rounds])

    total = rounded(med("with_events_s"), 3)
    scim_p50 = rounded(median(scim_ms), 2)
    return {
        "rows": ROWS,
        "figures": {
            "import_with_events_s": total,
            "import_answered_s": rounded(med("answered_s"), 3),
            "same_file_again_s": rounded(med("same_file_again_s"), 3),
            # Upload until every consumer (the domain worker's directory projection, the
            # gateway's webhooks) has handled the import's events: information.
            "consumed_by_every_consumer_s": rounded(med("consumed_s"), 3),
            "raw_copy_s": rounded(med("raw_copy_s"), 3),
            "rows_per_s": rounded(ROWS / med("with_events_s"), 0),
            "import_vs_raw_copy_ratio": rounded(
                median([rd["with_events_s"] / rd["raw_copy_s"] for rd in rounds]), 1
            ),
            # The import's path (gateway, PostgreSQL, relay, NATS): the domain consumer is
            # left out, as before it was measured.
            "server_cpu_s": rounded(
                median(
                    [sum(v for k, v in rd["cpu_s"].items() if k != "consumer") for rd in rounds]
                ),
                3,
            ),
            # Per process (gateway API, PostgreSQL, the gateway worker: relay and webhook
            # fan-out, NATS, the domain consumer), upload to last event published: the figure
            # other jobs on the machine barely move.
            "cpu_s_by_process": {
                k: rounded(median([rd["cpu_s"][k] for rd in rounds]), 3)
                for k in (rounds[0]["cpu_s"] if rounds else {})
            },
            "scim_create_p50_ms": scim_p50,
            "scim_create_p99_ms": rounded(scim_ms[int(len(scim_ms) * 0.99) - 1], 2),
            # Per process (gateway API, PostgreSQL, the gateway worker: relay and webhook
            # fan-out, NATS, the domain consumer), per create: information.
            "scim_create_cpu_ms_by_process": {k: rounded(v, 2) for k, v in scim_cpu.items()},
        },
        "bars": {
            "hr_import_10k_with_events": bar(total, BAR_SECONDS, "<=", " s"),
            "scim_create_p50": bar(scim_p50, SCIM_BAR_MS, "<=", " ms"),
        },
        "rounds": rounds,
    }
