"""Per-test databases: each service's schema is migrated once into a template database,
then every test gets a file-level copy of it (``CREATE DATABASE ... TEMPLATE``), which takes
milliseconds instead of re-running migrations."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from cpd_common.testing.servers import EmbeddedPostgres


def prepare_template(pg: EmbeddedPostgres, name: str, migrate: Callable[[str], None]) -> None:
    """(Re)creates template database ``name`` and runs ``migrate(url)`` on it."""
    pg.drop_database(name)
    url = pg.create_database(name)
    migrate(url)
    # No connection may stay open on a template while it is copied.
    pg.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")


async def clone_database(pg: EmbeddedPostgres, template: str) -> tuple[str, str]:
    """A fresh copy of ``template``; returns ``(name, url)``."""
    name = f"t_{template.removeprefix('tpl_')}_{uuid.uuid4().hex[:10]}"
    url = await pg.acreate_database(name, template=template)
    return name, url


def unique_name(prefix: str) -> str:
    """A name no other test uses (databases, consumers, streams)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
