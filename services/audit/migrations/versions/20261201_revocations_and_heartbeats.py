"""token revocations (what each token subject may still do, with a trigger that tells every
API process at once) and worker heartbeats (the API's readiness)

Revision ID: 20261201_revocations_heartbeats
Revises: 20261201_one_of_a_kind
Create Date: 2026-12-01 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cpd_common.revocation import CREATE_NOTIFY_TRIGGER, DROP_NOTIFY_TRIGGER

revision: str = "20261201_revocations_heartbeats"
down_revision: str | None = "20261201_one_of_a_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "token_revocations",
        sa.Column("subject", sa.String(length=140), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(length=40)), nullable=True),
        sa.Column("school_ids", postgresql.ARRAY(sa.Uuid()), nullable=True),
        sa.Column("narrowed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_token_revocations")),
    )
    for statement in CREATE_NOTIFY_TRIGGER:
        op.execute(statement)
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    for statement in DROP_NOTIFY_TRIGGER:
        op.execute(statement)
    op.drop_table("token_revocations")
