"""Every service's migrations upgrade an empty database to head, and the models match it."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from cpd_common.migrations import upgrade
from cpd_common.testing.databases import unique_name
from cpd_local.platform import SERVICE_NAMES, service_spec


@pytest.mark.parametrize("name", SERVICE_NAMES)
async def test_upgrade_empty_database_to_head_matches_models(pg_server, name: str) -> None:
    db = unique_name(f"mig_{name}")
    await pg_server.acreate_database(db)
    url = pg_server.url(db)
    try:
        await asyncio.to_thread(upgrade, service_spec(name).service_dir, url)
        metadata = importlib.import_module(f"cpd_{name}.models").Base.metadata
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:

                def diff(sync_conn):  # type: ignore[no-untyped-def]
                    ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                    return compare_metadata(ctx, metadata)

                differences = await conn.run_sync(diff)
                head = (
                    await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                ).scalar()
        finally:
            await engine.dispose()
        assert differences == [], f"{name}: models and migrations differ: {differences}"
        assert head, f"{name}: no alembic version recorded"
    finally:
        await pg_server.adrop_database(db)
