"""audit result totals: a closed audit's whole-audit figures, stored by the close

Audits closed before this revision have none and are computed from their answers on each
read, as before.

Revision ID: 20261202_audit_result_totals
Revises: 20261202_tombstone_scope
Create Date: 2026-12-02 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_audit_result_totals"
down_revision: str | None = "20261202_tombstone_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_result_totals",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sections", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_result_totals_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_result_totals")),
    )


def downgrade() -> None:
    op.drop_table("audit_result_totals")
