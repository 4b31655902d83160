"""incremental sync: tombstones of nested resources (parent_id) and private ones (visible_to)

Revision ID: 20261202_tombstone_scope
Revises: 20261202_directory_source_time
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "20261202_tombstone_scope"
down_revision: str | None = "20261202_directory_source_time"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.add_tombstone_scope_20261202()


def downgrade() -> None:
    migration_ops.drop_tombstone_scope_20261202()
