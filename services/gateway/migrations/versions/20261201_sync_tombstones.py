"""incremental sync: tombstones of deleted resources and (trust_id, updated_at, id) indexes

Revision ID: 20261201_sync_tombstones
Revises: 20261201_single_sign_on
Create Date: 2026-12-01 08:20:00
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "20261201_sync_tombstones"
down_revision: str | None = "20261201_single_sign_on"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.create_tombstones_20261201()
    migration_ops.create_sync_index("people")


def downgrade() -> None:
    migration_ops.drop_sync_index("people")
    migration_ops.drop_tombstones_20261201()
