"""incremental sync on every list: (trust or parent, updated_at, id) indexes

Revision ID: 20261202_sync_indexes
Revises: 20261202_audit_result_totals
Create Date: 2026-12-02 01:30:00
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "20261202_sync_indexes"
down_revision: str | None = "20261202_audit_result_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen: the tables and leading columns of this revision (the models' SYNC_INDEXES then).
LEADING = {
    "instruments": "trust_id",
    "alignment_plans": "trust_id",
    "cpd_plans": "trust_id",
    "career_plans": "trust_id",
    "self_audits": "trust_id",
}


def upgrade() -> None:
    migration_ops.create_sync_indexes_20261202(LEADING)


def downgrade() -> None:
    migration_ops.drop_sync_indexes_20261202(LEADING)
