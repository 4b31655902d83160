"""incremental sync: tombstones of deleted resources and (trust_id, updated_at, id) indexes

Revision ID: 20261201_sync_tombstones
Revises: 20261201_builtin_instruments
Create Date: 2026-12-01 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_sync_tombstones"
down_revision: str | None = "20261201_builtin_instruments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("resource", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column(
            "deleted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("resource", "id", name=op.f("pk_tombstones")),
    )
    op.create_index(
        "ix_tombstones_sync", "tombstones", ["trust_id", "resource", "deleted_at", "id"]
    )
    op.create_index(op.f("ix_tombstones_deleted_at"), "tombstones", ["deleted_at"])
    op.create_index("ix_audits_trust_id_updated_at_id", "audits", ["trust_id", "updated_at", "id"])
    op.create_index("ix_needs_trust_id_updated_at_id", "needs", ["trust_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_audits_trust_id_updated_at_id", table_name="audits")
    op.drop_index("ix_needs_trust_id_updated_at_id", table_name="needs")
    op.drop_table("tombstones")
