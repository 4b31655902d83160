"""API clients: their own rate limit, and the previous secret kept for a short overlap after
a rotation

Revision ID: 20261201_client_limits_rotation
Revises: 20261201_sessions
Create Date: 2026-12-01 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_client_limits_rotation"
down_revision: str | None = "20261201_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_clients", sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True))
    op.add_column(
        "api_clients", sa.Column("previous_secret_hash", sa.String(length=200), nullable=True)
    )
    op.add_column(
        "api_clients",
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "api_clients", sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("api_clients", "secret_rotated_at")
    op.drop_column("api_clients", "previous_secret_expires_at")
    op.drop_column("api_clients", "previous_secret_hash")
    op.drop_column("api_clients", "rate_limit_per_minute")
