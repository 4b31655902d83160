"""infrastructure and directory projection

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:55:49.745376
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.create_infrastructure_and_directory_projection_20261123()


def downgrade() -> None:
    migration_ops.drop_infrastructure_and_directory_projection_20261123()
