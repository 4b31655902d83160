"""erasure confirmations (each service's word that it finished erasing a person, for the
erasure report) and the gateway's inbox and dead letters (it now consumes those events)

Revision ID: 20261201_erasure_confirmations
Revises: 20261201_client_limits_rotation
Create Date: 2026-12-01 07:37:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_erasure_confirmations"
down_revision: str | None = "20261201_client_limits_rotation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("event_type", sa.String(length=120), nullable=True),
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(op.f("ix_dead_letters_consumer"), "dead_letters", ["consumer"], unique=False)
    op.create_index(op.f("ix_dead_letters_trust_id"), "dead_letters", ["trust_id"], unique=False)
    op.create_table(
        "erasure_confirmations",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "service", name=op.f("pk_erasure_confirmations")),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column(
            "handled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_inbox")),
    )


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("erasure_confirmations")
    op.drop_index(op.f("ix_dead_letters_trust_id"), table_name="dead_letters")
    op.drop_index(op.f("ix_dead_letters_consumer"), table_name="dead_letters")
    op.drop_table("dead_letters")
