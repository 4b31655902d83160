"""private self-audits: one person answering an instrument for themself

Revision ID: 20261201_self_audits
Revises: 20261201_frozen_audience
Create Date: 2026-12-01 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_self_audits"
down_revision: str | None = "20261201_frozen_audience"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "self_audits",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("instrument_version_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["instrument_version_id"],
            ["instrument_versions.id"],
            name=op.f("fk_self_audits_instrument_version_id_instrument_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_audits")),
    )
    op.create_index(
        op.f("ix_self_audits_instrument_version_id"),
        "self_audits",
        ["instrument_version_id"],
        unique=False,
    )
    op.create_index(op.f("ix_self_audits_person_id"), "self_audits", ["person_id"], unique=False)
    op.create_index(op.f("ix_self_audits_trust_id"), "self_audits", ["trust_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_self_audits_trust_id"), table_name="self_audits")
    op.drop_index(op.f("ix_self_audits_person_id"), table_name="self_audits")
    op.drop_index(op.f("ix_self_audits_instrument_version_id"), table_name="self_audits")
    op.drop_table("self_audits")
