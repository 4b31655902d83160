"""``cpd seed --scale N``: N synthetic trusts, bulk-loaded into every service's database.

The rows come from :mod:`cpd_local.scale_data` and :mod:`cpd_local.scale_audit`
(deterministic: the same trust number gives the same rows). They are written with
``COPY`` (asyncpg's ``copy_records_to_table``) straight into the tables the services'
migrations made, one transaction per database and trust, the four databases at once, then
``VACUUM ANALYZE``. The domain services' directory projections (``people``, ``schools``, the
evaluation service's ``needs``) are written with the values the gateway's directory holds, as
their event consumers would have: no event goes through the outbox or NATS (millions of them
would take longer than the benchmark they feed), so nothing downstream hears about these
trusts (webhooks, lesson-study activities in the evaluation service). A trust already there
is left alone, so ``--scale 10`` after ``--scale 1`` adds trusts 2 to 10.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from cpd_local import scale_audit
from cpd_local.scale_data import (
    PASSWORD,
    QA_SECRET,
    Shape,
    Table,
    _directory,
    _people,
    academic_year_start,
    admin_email,
    projection,
    qa_client_id,
    trust_id,
)
from cpd_local.scale_domain import activities, lesson_studies

DATABASES = ("gateway", "audit", "lessonstudy", "evaluation")


def trust_rows(
    t: int, shape: Shape, year: int, secrets: dict[str, str], *, volume: bool
) -> dict[str, dict[str, Table]]:
    """Every row of trust ``t``, by database and table, in an order foreign keys accept."""
    rng = random.Random(f"cpd-scale-{t}")
    year0 = datetime(year, 9, 1, 7, tzinfo=UTC)
    people = _people(t, shape, rng, year0)
    directory = projection(t, shape, people, year0)
    audit_needs, needs_projection = scale_audit.needs(t, shape, people, rng, year0)
    evaluation = activities(t, shape, people, rng, year0)
    return {
        "gateway": _directory(t, shape, people, year0, secrets),
        "audit": {
            **directory,
            **scale_audit.instrument(t, year0),
            **scale_audit.audits(t, shape, people, rng, year0, volume=volume),
            **audit_needs,
        },
        "lessonstudy": {**directory, **lesson_studies(t, shape, people, rng, year0)},
        "evaluation": {
            **directory,
            "needs": (
                (
                    "id",
                    "trust_id",
                    "school_id",
                    "level",
                    "need_types",
                    "priority",
                    "audit_id",
                    "item_keys",
                    "recorded_at",
                ),
                needs_projection,
            ),
            **evaluation,
        },
    }


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _copy(conn: Any, tables: dict[str, Table]) -> int:
    count = 0
    async with conn.transaction():
        for table, (columns, rows) in tables.items():
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=list(columns))
                count += len(rows)
    return count


async def store_audit_totals(dsn: str, trust_ids: list[Any]) -> int:
    """What closing them would have stored: each closed audit's whole-audit figures
    (``cpd_audit.results.totals``), computed by the audit service's own code."""
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from cpd_audit.results import totals

    url = dsn if "+asyncpg" in dsn else dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    # One transaction per trust, a few at once: the audit service's code is one statement
    # after another, so trusts side by side keep PostgreSQL's cores busy (N=10: ~2.5 minutes
    # for 1,359 audits one trust after another).
    running = asyncio.Semaphore(4)

    async def one(trust: Any) -> int:
        async with running, AsyncSession(engine) as session, session.begin():
            return await totals.store_missing(session, [trust])

    try:
        return sum(await asyncio.gather(*(one(t) for t in trust_ids)))
    finally:
        await engine.dispose()


def secrets() -> dict[str, str]:
    """The admin password's and the QA client secret's hashes, made once (argon2 is slow)."""
    from cpd_gateway.identity import service as identity

    return {"password": identity.hash_secret(PASSWORD), "qa": identity.hash_secret(QA_SECRET)}


async def seed(
    dsns: dict[str, str],
    trusts: range,
    shape: Shape | None = None,
    *,
    volume_audits: bool = True,
    year: int | None = None,
    log: Callable[[str], None] = lambda msg: None,
    vacuum: bool = True,
) -> dict[str, Any]:
    """Seeds trusts ``trusts`` (numbers from 1) into the databases ``dsns`` (service ->
    DSN). Only trust 1 carries the volume audits. Returns rows written and seconds taken."""
    import asyncpg

    shape = shape or Shape()
    year = year if year is not None else academic_year_start()
    started = time.monotonic()
    conns = {name: await asyncpg.connect(asyncpg_dsn(dsn)) for name, dsn in dsns.items()}
    rows: dict[str, int] = dict.fromkeys(dsns, 0)
    seeded = []
    try:
        hashes = secrets()
        for t in trusts:
            if await conns["gateway"].fetchval("SELECT 1 FROM trusts WHERE id = $1", trust_id(t)):
                log(f"trust {t} is already there")
                continue
            data = trust_rows(t, shape, year, hashes, volume=volume_audits and t == 1)
            counts = await asyncio.gather(*(_copy(conns[name], data[name]) for name in conns))
            for name, n in zip(conns, counts, strict=True):
                rows[name] += n
            seeded.append(t)
            log(f"trust {t}: {sum(counts):,} rows ({time.monotonic() - started:.1f}s)")
        if vacuum and seeded:
            await asyncio.gather(*(c.execute("VACUUM ANALYZE") for c in conns.values()))
        if seeded and "audit" in dsns:
            stored = await store_audit_totals(dsns["audit"], [trust_id(t) for t in seeded])
            log(f"stored the figures of {stored} closed audits ({time.monotonic() - started:.1f}s)")
    finally:
        for conn in conns.values():
            await conn.close()
    return {
        "trusts": seeded,
        "schools_per_trust": shape.schools,
        "staff_per_trust": shape.staff,
        "academic_year": f"{year}-{(year + 1) % 100:02d}",
        "rows": rows,
        "seconds": round(time.monotonic() - started, 1),
    }


@contextlib.contextmanager
def platform_databases() -> Iterator[dict[str, str]]:
    """The local platform's four databases (``cpd up``'s, or ``CPD_DATABASE_URL``'s server)."""
    from cpd_common.testing.servers import PG_USER, EmbeddedPostgres
    from cpd_local.cli import _running_port, database_url, state_dir

    server_url = os.environ.get("CPD_DATABASE_URL")
    if server_url:
        yield {name: database_url(server_url, name) for name in DATABASES}
        return
    pg_dir = state_dir() / "postgres"
    port = _running_port(pg_dir / "data")
    if port is not None:
        yield {name: f"postgresql://{PG_USER}@127.0.0.1:{port}/cpd_{name}" for name in DATABASES}
        return
    if not (pg_dir / "data" / "PG_VERSION").exists():
        raise SystemExit(f"no local platform in {state_dir()}: run `cpd up` once first")
    pg = EmbeddedPostgres(pg_dir, durable=True)
    pg.start()
    try:
        yield {name: pg.url(f"cpd_{name}") for name in DATABASES}
    finally:
        pg.stop()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="trusts of 50 schools and 3,000 staff (below 1: one smaller trust)",
    )
    p.add_argument("--schools", type=int, help="schools per trust (overrides the scale's)")
    p.add_argument("--staff", type=int, help="staff per trust (overrides the scale's)")
    p.add_argument(
        "--no-volume-audits",
        action="store_true",
        help="leave out trust 1's audits of 1k, 10k and 100k responses",
    )
    p.add_argument(
        "--year", type=int, help="academic year's first calendar year (default: the current)"
    )


def run(args: argparse.Namespace) -> int:
    base = Shape.scaled(args.scale)
    shape = Shape(schools=args.schools or base.schools, staff=args.staff or base.staff)
    trusts = range(1, max(1, int(args.scale)) + 1)
    with platform_databases() as dsns:
        result = asyncio.run(
            seed(
                dsns,
                trusts,
                shape,
                volume_audits=not args.no_volume_audits and args.scale >= 1,
                year=args.year,
                log=lambda m: print(m, file=sys.stderr, flush=True),
            )
        )
    print(
        f"seeded {len(result['trusts'])} trust(s) in {result['seconds']}s: "
        + ", ".join(f"{k} {v:,} rows" for k, v in result["rows"].items()),
        flush=True,
    )
    for t in result["trusts"]:
        print(
            f"  trust {t}: admin {admin_email(t)} / {PASSWORD}; QA client {qa_client_id(t)} / {QA_SECRET}"
        )
    return 0
