"""incremental sync of a subscription's deliveries: webhook_deliveries.updated_at, indexed

Revision ID: 20261202_webhook_deliveries_sync
Revises: 20261202_encrypt_stored_secrets
Create Date: 2026-12-02 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_webhook_deliveries_sync"
down_revision: str | None = "20261202_encrypt_stored_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "webhook_deliveries",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_id_updated_at_id",
        "webhook_deliveries",
        ["subscription_id", "updated_at", "id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_webhook_deliveries_subscription_id_updated_at_id", table_name="webhook_deliveries"
    )
    op.drop_column("webhook_deliveries", "updated_at")
