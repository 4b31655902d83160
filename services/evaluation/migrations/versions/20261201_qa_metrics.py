"""the QA metrics release log

Revision ID: 20261201_qa_metrics
Revises: 20261201_cpd_offer
Create Date: 2026-12-01 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_qa_metrics"
down_revision: str | None = "20261201_cpd_offer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_releases",
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column(
            "released_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("academic_year", sa.String(length=7), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("definitions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cells_released", sa.Integer(), nullable=False),
        sa.Column("withheld", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("format IN ('json', 'csv')", name=op.f("ck_metric_releases_format")),
        sa.CheckConstraint("cells_released >= 0", name=op.f("ck_metric_releases_cells_released")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_releases")),
    )
    op.create_index(
        op.f("ix_metric_releases_trust_id"), "metric_releases", ["trust_id"], unique=False
    )
    op.create_index(
        "ix_metric_releases_trust_id_id", "metric_releases", ["trust_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_metric_releases_trust_id_id", table_name="metric_releases")
    op.drop_index(op.f("ix_metric_releases_trust_id"), table_name="metric_releases")
    op.drop_table("metric_releases")
