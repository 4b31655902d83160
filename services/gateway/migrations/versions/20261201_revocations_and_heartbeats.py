"""token revocations (what each token subject may still do, with a trigger that tells every
API process at once) and worker heartbeats (the API's readiness)

Revision ID: 20261201_revocations_heartbeats
Revises: 20261201_email_unique
Create Date: 2026-12-01 04:15:00
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "20261201_revocations_heartbeats"
down_revision: str | None = "20261201_email_unique"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    migration_ops.create_revocations_and_heartbeats_20261201()


def downgrade() -> None:
    migration_ops.drop_revocations_and_heartbeats_20261201()
