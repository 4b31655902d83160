"""built-in instruments arrive by data migration: the three built-ins as released (version 1)
and the CPD Quality Framework's version 2 (44 statements: 2h, support staff who do not work
with pupils, was missing); one built-in per key, held by a partial unique index

Revision ID: 20261201_builtin_instruments
Revises: 20261201_self_audits
Create Date: 2026-12-01 05:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cpd_audit.instruments import builtin

revision: str = "20261201_builtin_instruments"
down_revision: str | None = "20261201_self_audits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The versions this migration ships (the files are immutable once released); a later
# revision is a new file and a new migration.
SHIPPED = (
    ("effective-cpd-principles", 1),
    ("cpd-quality-framework", 1),
    ("staff-cpd-audit", 1),
    ("cpd-quality-framework", 2),
)


def upgrade() -> None:
    bind = op.get_bind()
    latest: dict[str, int] = {}
    for key, version in SHIPPED:
        data = builtin.load(key, version)
        latest[key] = max(latest.get(key, 0), version)
        # Databases that served a GET before this migration already hold the version-1 rows
        # (same fixed ids, same content): those stay as they are.
        bind.execute(
            sa.text(
                "INSERT INTO instruments (id, trust_id, key, title, description, framework, "
                "latest_version) VALUES (:id, NULL, :key, :title, :description, :framework, "
                ":version) ON CONFLICT (id) DO NOTHING"
            ),
            {
                "id": builtin.instrument_id(key),
                "key": key,
                "title": data["title"],
                "description": data["description"],
                "framework": data["framework"],
                "version": version,
            },
        )
        bind.execute(
            sa.text(
                "INSERT INTO instrument_versions (id, instrument_id, trust_id, version, title, "
                "description, sections, items) VALUES (:id, :instrument_id, NULL, :version, "
                ":title, :description, CAST(:sections AS jsonb), CAST(:items AS jsonb)) "
                "ON CONFLICT (id) DO NOTHING"
            ),
            {
                "id": builtin.version_id(key, version),
                "instrument_id": builtin.instrument_id(key),
                "version": version,
                "title": data["title"],
                "description": data["description"],
                "sections": json.dumps(data["sections"]),
                "items": json.dumps(data["items"]),
            },
        )
    # New audits use each built-in's latest version; audits of version 1 keep it.
    for key, version in latest.items():
        data = builtin.load(key, version)
        bind.execute(
            sa.text(
                "UPDATE instruments SET latest_version = :version, title = :title, "
                "description = :description, framework = :framework, updated_at = now() "
                "WHERE id = :id"
            ),
            {
                "id": builtin.instrument_id(key),
                "version": version,
                "title": data["title"],
                "description": data["description"],
                "framework": data["framework"],
            },
        )
    op.create_index(
        "uq_instruments_builtin_key",
        "instruments",
        ["key"],
        unique=True,
        postgresql_where=sa.text("trust_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_instruments_builtin_key", table_name="instruments")
    op.execute(
        sa.text("UPDATE instruments SET latest_version = 1 WHERE id = :id").bindparams(
            id=builtin.instrument_id("cpd-quality-framework")
        )
    )
    op.execute(
        sa.text("DELETE FROM instrument_versions WHERE id = :id").bindparams(
            id=builtin.version_id("cpd-quality-framework", 2)
        )
    )
