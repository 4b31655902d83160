"""incremental sync on every list: (trust or parent, updated_at, id) indexes

Revision ID: 20261202_sync_indexes
Revises: 20261202_observations_sync
Create Date: 2026-12-02 01:30:00
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "20261202_sync_indexes"
down_revision: str | None = "20261202_observations_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen: the tables and leading columns of this revision (the models' SYNC_INDEXES then).
LEADING = {
    "participants": "activity_id",
    "reflections": "activity_id",
    "coaching_sessions": "activity_id",
    "providers": "trust_id",
    "evaluation_plans": "trust_id",
    "programmes": "trust_id",
    "cpd_requests": "trust_id",
    "measures": "plan_id",
    "support_records": "plan_id",
    "programme_runs": "programme_id",
}


def upgrade() -> None:
    migration_ops.create_sync_indexes_20261202(LEADING)


def downgrade() -> None:
    migration_ops.drop_sync_indexes_20261202(LEADING)
