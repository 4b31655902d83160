"""incremental sync of a measure's observations: (measure_id, created_at, id) index

Revision ID: 20261202_observations_sync
Revises: 20261202_tombstone_scope
Create Date: 2026-12-02 01:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261202_observations_sync"
down_revision: str | None = "20261202_tombstone_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_observations_measure_id_created_at_id",
        "observations",
        ["measure_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_observations_measure_id_created_at_id", table_name="observations")
