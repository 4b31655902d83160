"""evaluation plans and the activities they cover

Revision ID: 20261201_evaluation_plans
Revises: 0003_voice
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_evaluation_plans"
down_revision: str | None = "0003_voice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_plans",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("reaches_pupil_outcomes", sa.Boolean(), nullable=False),
        sa.Column("design_note", sa.Text(), nullable=True),
        sa.Column("short_term_outcome", sa.Text(), nullable=False),
        sa.Column("medium_term_outcome", sa.Text(), nullable=False),
        sa.Column("baseline_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("short_term_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("medium_term_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reported_to", sa.Text(), nullable=True),
        sa.Column("leads_to_action", sa.Text(), nullable=True),
        sa.Column("levels", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("baseline_due_on", sa.Date(), nullable=True),
        sa.Column("short_term_due_on", sa.Date(), nullable=True),
        sa.Column("medium_term_due_on", sa.Date(), nullable=True),
        sa.Column("report_due_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "status IN ('planned', 'baseline_captured', 'short_term_captured', "
            "'medium_term_captured', 'reported')",
            name=op.f("ck_evaluation_plans_status"),
        ),
        sa.CheckConstraint("cardinality(levels) >= 1", name=op.f("ck_evaluation_plans_levels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_plans")),
    )
    op.create_index(
        op.f("ix_evaluation_plans_trust_id"), "evaluation_plans", ["trust_id"], unique=False
    )
    op.create_table(
        "evaluation_plan_activities",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_evaluation_plan_activities_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["evaluation_plans.id"],
            name=op.f("fk_evaluation_plan_activities_plan_id_evaluation_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "plan_id", "activity_id", name=op.f("pk_evaluation_plan_activities")
        ),
        sa.UniqueConstraint("activity_id", name=op.f("uq_evaluation_plan_activities_activity_id")),
    )
    op.create_index(
        op.f("ix_evaluation_plan_activities_trust_id"),
        "evaluation_plan_activities",
        ["trust_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_evaluation_plan_activities_trust_id"), table_name="evaluation_plan_activities"
    )
    op.drop_table("evaluation_plan_activities")
    op.drop_index(op.f("ix_evaluation_plans_trust_id"), table_name="evaluation_plans")
    op.drop_table("evaluation_plans")
