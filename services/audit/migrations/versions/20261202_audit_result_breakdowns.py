"""audit result breakdowns: a closed audit's breakdown inputs, stored by the close

The atom counts suppression is decided on (``audit_result_atoms``) and the per-cell SQL rows
of the stored breakdown dimensions (``audit_result_breakdowns``), both before suppression.
Audits closed before this revision have none and are computed from their answers on each
read, as before.

Revision ID: 20261202_audit_result_breakdowns
Revises: 20261202_sync_indexes
Create Date: 2026-12-02 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_audit_result_breakdowns"
down_revision: str | None = "20261202_sync_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_result_atoms",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("units", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_result_atoms_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_result_atoms")),
    )
    op.create_table(
        "audit_result_breakdowns",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("dims", sa.Text(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sections", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_result_breakdowns_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audit_id", "dims", name=op.f("pk_audit_result_breakdowns")),
    )


def downgrade() -> None:
    op.drop_table("audit_result_breakdowns")
    op.drop_table("audit_result_atoms")
