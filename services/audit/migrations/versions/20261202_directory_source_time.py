"""directory projection: the time of the event each people/schools row was built from

Revision ID: 20261202_directory_source_time
Revises: 20261201_sync_tombstones
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "20261202_directory_source_time"
down_revision: str | None = "20261201_sync_tombstones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.add_directory_source_time_20261202()


def downgrade() -> None:
    migration_ops.drop_directory_source_time_20261202()
