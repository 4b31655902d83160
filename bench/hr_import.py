"""hr_import: 10,000 people by CSV through the gateway (DESIGN.md section 9, "HR import":
<= 10 s including their events), timed from the upload until the gateway's relay has
published every ``directory.person.upserted`` the import wrote; then the same file again
(an idempotent no-op: no change, no event). The baseline: the same 10,000 people and their
outbox rows copied into scratch tables by raw asyncpg ``COPY``, the database's floor.

Each round imports new people (their external ids and emails carry the round), so every
round creates all 10,000. ``python -m bench --only hr_import`` runs it alone.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aiohttp
import asyncpg

from bench.config import Config, bar
from bench.load import median, rounded
from bench.procs import cpu_seconds
from bench.stack import Stack, log
from cpd_common.db import uuid7
from cpd_demo.trust import NORTHFIELD, SOUTHBANK, TRUSTS

ROWS = 10_000
BAR_SECONDS = 10.0
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


async def _relayed(conn: asyncpg.Connection, timeout: float = 120.0) -> None:
    """Waits until the gateway's outbox has nothing left to publish."""
    deadline = time.monotonic() + timeout
    while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
        if time.monotonic() > deadline:
            raise RuntimeError("the relay did not publish the import's events in time")
        await asyncio.sleep(0.02)


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
    }

    def cpu_now() -> dict[str, float]:
        return {k: cpu_seconds(pid, children=c) for k, (pid, c) in processes.items()}

    rounds: list[dict[str, Any]] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
            await _relayed(conn)
            for r in range(cfg.rounds):
                tag = f"{r}{uuid.uuid4().hex[:5]}"
                body = csv_body(tag)
                before = cpu_now()
                t0 = time.perf_counter()
                report = await _import(http, url, stack.token, body)
                answered = time.perf_counter() - t0
                await _relayed(conn)
                with_events = time.perf_counter() - t0
                after = cpu_now()
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
                        "cpu_s": {k: round(after[k] - before[k], 3) for k in after},
                    }
                )
                log(
                    f"hr_import round {r + 1}: answered {answered:.2f}s, with events "
                    f"{with_events:.2f}s, again {no_op:.2f}s, raw COPY {raw:.2f}s"
                )
    finally:
        await conn.close()

    def med(key: str) -> float:
        return median([rd[key] for rd in rounds])

    total = rounded(med("with_events_s"), 3)
    return {
        "rows": ROWS,
        "figures": {
            "import_with_events_s": total,
            "import_answered_s": rounded(med("answered_s"), 3),
            "same_file_again_s": rounded(med("same_file_again_s"), 3),
            "raw_copy_s": rounded(med("raw_copy_s"), 3),
            "rows_per_s": rounded(ROWS / med("with_events_s"), 0),
            "import_vs_raw_copy_ratio": rounded(
                median([rd["with_events_s"] / rd["raw_copy_s"] for rd in rounds]), 1
            ),
            "server_cpu_s": rounded(median([sum(rd["cpu_s"].values()) for rd in rounds]), 3),
        },
        "bars": {"hr_import_10k_with_events": bar(total, BAR_SECONDS, "<=", " s")},
        "rounds": rounds,
    }
