"""observations_upload: a 50,000-row CSV of pupil outcomes, validated, pseudonymised and stored
(DESIGN.md section 9, "CSV uploads": <= 5 s), through the gateway and straight to the
evaluation service; against the same rows (pseudonyms computed beforehand) copied into the
same table by raw asyncpg ``COPY``, the database's floor for storing them.

Each upload goes to a fresh measure, so every one stores all its rows. The measures sit under
one plan of the demo trust, written straight into the evaluation database (the benchmark
stack runs no evaluation worker, so the service has not heard of the demo schools). The
rows: 25,000 pupils at baseline and short term, with every column filled.

``python -m bench --only observations_upload`` runs it alone.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import aiohttp
import asyncpg

from bench.config import Config, bar
from bench.load import median, rotate, rounded
from bench.procs import cpu_seconds
from bench.stack import Stack, log
from cpd_common.db import uuid7
from cpd_demo.trust import NORTHFIELD, TRUSTS
from cpd_evaluation.observations.service import COPY_COLUMNS

ROWS = 50_000
BAR_SECONDS = 5.0
TRUST = TRUSTS[0]["id"]
HEADER = "pupil_id,phase,value,date,disadvantaged,send,year_group,group"
PHASES = ("baseline", "short_term")


def csv_rows() -> list[tuple[str, str, int, str, bool, bool, str, str]]:
    rng = random.Random(10)
    out = []
    for i in range(ROWS // len(PHASES)):
        disadvantaged, send = rng.random() < 0.3, rng.random() < 0.15
        group = "cpd" if i % 2 else "comparison"
        for phase in PHASES:
            day = "2025-09-15" if phase == "baseline" else "2025-12-12"
            value = rng.randint(10, 60)
            out.append((f"P{i:09d}", phase, value, day, disadvantaged, send, "Year 5", group))
    return out


def csv_body(rows: list[tuple[str, str, int, str, bool, bool, str, str]]) -> bytes:
    lines = [HEADER]
    lines += [
        f"{p},{ph},{v},{d},{str(dis).lower()},{str(s).lower()},{y},{g}"
        for p, ph, v, d, dis, s, y, g in rows
    ]
    return ("\n".join(lines) + "\n").encode()


async def _setup_plan(conn: asyncpg.Connection) -> uuid.UUID:
    activity, plan = uuid7(), uuid7()
    empty = '{"quantitative": [], "qualitative": [], "analysis": null}'
    await conn.execute(
        "INSERT INTO activities (id, trust_id, title, kind, status, school_ids, subject_specific,"
        " fees, materials_cost, supply_cover_cost, release_time_hours, source)"
        " VALUES ($1, $2, 'Benchmark programme', 'course', 'active', $3, false, 0, 0, 0, 0,"
        " 'manual')",
        activity,
        TRUST,
        [NORTHFIELD],
    )
    await conn.execute(
        "INSERT INTO evaluation_plans (id, trust_id, title, status, reaches_pupil_outcomes,"
        " short_term_outcome, medium_term_outcome, baseline_data, short_term_data,"
        " medium_term_data, levels, school_ids) VALUES ($1, $2, 'Benchmark plan', 'planned',"
        " true, 'x', 'y', $3::jsonb, $3::jsonb, $3::jsonb, ARRAY['pupil_outcomes'], $4)",
        plan,
        TRUST,
        empty,
        [NORTHFIELD],
    )
    await conn.execute(
        "INSERT INTO evaluation_plan_activities (plan_id, activity_id, trust_id)"
        " VALUES ($1, $2, $3)",
        plan,
        activity,
        TRUST,
    )
    return plan


async def _new_measure(conn: asyncpg.Connection, plan: uuid.UUID, name: str) -> uuid.UUID:
    measure = uuid7()
    await conn.execute(
        "INSERT INTO measures (id, trust_id, plan_id, name, kind, subjects, scale_min,"
        " scale_max, higher_is_better) VALUES ($1, $2, $3, $4, 'test_score', 'pupils', 0, 60,"
        " true)",
        measure,
        TRUST,
        plan,
        name,
    )
    return measure


async def _upload(
    http: aiohttp.ClientSession, url: str, token: str, body: bytes
) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    async with http.post(
        url,
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    ) as resp:
        payload = await resp.json(content_type=None)
        if resp.status != 201:
            raise RuntimeError(f"upload answered {resp.status}: {str(payload)[:500]}")
    return time.perf_counter() - t0, payload


async def _raw_copy(
    conn: asyncpg.Connection,
    measure: uuid.UUID,
    rows: list[tuple[str, str, int, str, bool, bool, str, str]],
    secret: bytes,
) -> float:
    """The same rows (pseudonyms computed beforehand) by COPY in one transaction."""
    records = [
        (
            uuid7(),
            TRUST,
            measure,
            hmac.new(secret, p.encode(), hashlib.sha256).hexdigest(),
            ph,
            Decimal(v),
            date.fromisoformat(d),
            dis,
            s,
            y,
            g,
        )
        for p, ph, v, d, dis, s, y, g in rows
    ]
    t0 = time.perf_counter()
    async with conn.transaction():
        await conn.copy_records_to_table(
            "observations",
            records=records,
            columns=COPY_COLUMNS,
        )
    return time.perf_counter() - t0


async def run(stack: Stack, cfg: Config) -> dict[str, Any]:
    if not stack.up.get("evaluation"):
        return {"skipped": "the evaluation service is not running"}
    rows = csv_rows()
    body = csv_body(rows)
    conn = await asyncpg.connect(stack.dsn("cpd_evaluation"))
    targets = {
        "gateway": stack.url("gateway", "/v1/measures/{}/observations"),
        "direct": stack.url("evaluation", "/v1/measures/{}/observations"),
    }
    # CPU seconds each process spends on an upload: unlike wall time, barely moved by other
    # jobs sharing the cores (the contention-robust cross-check of bench/README.md).
    processes = {
        "gateway": (stack.pid("gateway"), False),
        "evaluation": (stack.pid("evaluation"), False),
        "postgres": (stack.postmaster_pid(), True),
    }

    def cpu_now() -> dict[str, float]:
        return {k: cpu_seconds(pid, children=c) for k, (pid, c) in processes.items()}

    rounds: list[dict[str, Any]] = []
    try:
        plan = await _setup_plan(conn)
        secret = bytes(32)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            # Warm-up (and the trust's pseudonym secret made on first use).
            warm = await _new_measure(conn, plan, "warm-up")
            await _upload(http, targets["direct"].format(warm), stack.token, body)
            secret = await conn.fetchval(
                "SELECT secret FROM pseudonym_secrets WHERE trust_id = $1", TRUST
            )
            order = [*targets, "raw_copy"]
            for r in range(cfg.rounds):
                runs: dict[str, Any] = {}
                for name in rotate(order, r):
                    measure = await _new_measure(conn, plan, f"round {r + 1} {name}")
                    before = cpu_now()
                    if name == "raw_copy":
                        runs[name] = {"seconds": await _raw_copy(conn, measure, rows, secret)}
                    else:
                        seconds, payload = await _upload(
                            http, targets[name].format(measure), stack.token, body
                        )
                        runs[name] = {"seconds": seconds, "stored": payload.get("inserted")}
                    after = cpu_now()
                    runs[name]["cpu_s"] = {k: round(after[k] - before[k], 3) for k in after}
                    stored = await conn.fetchval(
                        "SELECT count(*) FROM observations WHERE measure_id = $1", measure
                    )
                    if stored != ROWS:
                        raise RuntimeError(f"{name}: {stored} rows stored, not {ROWS}")
                rounds.append({"round": r + 1, "runs": runs})
                log(
                    "observations_upload round {}: {}".format(
                        r + 1, ", ".join(f"{k} {v['seconds']:.2f}s" for k, v in runs.items())
                    )
                )
    finally:
        await conn.close()

    def med(target: str) -> float:
        return median([rd["runs"][target]["seconds"] for rd in rounds])

    def med_cpu(target: str, *names: str) -> float | None:
        return rounded(
            median([sum(rd["runs"][target]["cpu_s"][n] for n in names) for rd in rounds]), 3
        )

    gateway_s = rounded(med("gateway"), 3)
    return {
        "rows": ROWS,
        "csv_bytes": len(body),
        "figures": {
            "gateway_upload_s": gateway_s,
            "direct_upload_s": rounded(med("direct"), 3),
            "raw_copy_s": rounded(med("raw_copy"), 3),
            "gateway_rows_per_s": rounded(ROWS / med("gateway"), 0),
            # Server CPU per upload (service + PostgreSQL; + gateway through it): about the
            # wall time the upload would take on otherwise idle cores.
            "gateway_server_cpu_s": med_cpu("gateway", "gateway", "evaluation", "postgres"),
            "direct_server_cpu_s": med_cpu("direct", "evaluation", "postgres"),
            "raw_copy_postgres_cpu_s": med_cpu("raw_copy", "postgres"),
            "direct_vs_raw_copy_ratio": rounded(
                median(
                    [
                        rd["runs"]["direct"]["seconds"] / rd["runs"]["raw_copy"]["seconds"]
                        for rd in rounds
                    ]
                ),
                2,
            ),
        },
        "bars": {"50,000 rows through the gateway": bar(gateway_s, BAR_SECONDS, "<=", " s")},
        "rounds": rounds,
    }
