"""Alembic environment of the audit service."""

import os

from alembic import context

from cpd_audit.models import Base
from cpd_common.migrations import run_env

if not context.config.get_main_option("sqlalchemy.url"):
    context.config.set_main_option(
        "sqlalchemy.url",
        os.environ.get("CPD_DATABASE_URL", "postgresql+asyncpg://cpd@127.0.0.1:5432/cpd_audit"),
    )

run_env(Base.metadata)
