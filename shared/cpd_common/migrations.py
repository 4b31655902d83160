"""Run a service's Alembic migrations programmatically (tests, the ``cpd`` command, containers)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config


def alembic_config(service_dir: Path, url: str) -> Config:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(service_dir: Path, url: str, revision: str = "head") -> None:
    """Upgrade ``url`` to ``revision``. Safe to call from a thread while an event loop runs."""
    command.upgrade(alembic_config(service_dir, url), revision)


def run_env(metadata: MetaData, *, include_object: Any = None) -> None:
    """The body of every service's ``migrations/env.py`` (async engine, online mode only)."""
    from alembic import context

    config = context.config

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            compare_server_default=False,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    connectable = config.attributes.get("connection")
    if connectable is not None:
        do_run(connectable)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async())
        return
    raise RuntimeError(
        "run migrations from a thread (asyncio.to_thread), not inside the event loop"
    )
