"""organisational support records, the trust's hourly staff cost, pupils reached by a plan

Revision ID: 20261201_support_costs
Revises: 20261201_qa_metrics
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_support_costs"
down_revision: str | None = "20261201_qa_metrics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("evaluation_plans", sa.Column("pupils_reached", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_evaluation_plans_pupils_reached"),
        "evaluation_plans",
        "pupils_reached IS NULL OR pupils_reached >= 0",
    )
    op.create_table(
        "support_records",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("hours_given", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("resources", sa.Text(), nullable=True),
        sa.Column("barriers", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
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
            "hours_given IS NULL OR hours_given BETWEEN 0 AND 100000",
            name=op.f("ck_support_records_hours"),
        ),
        sa.CheckConstraint(
            "hours_given IS NOT NULL OR resources IS NOT NULL OR barriers IS NOT NULL "
            "OR notes IS NOT NULL",
            name=op.f("ck_support_records_says_something"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["evaluation_plans.id"],
            name=op.f("fk_support_records_plan_id_evaluation_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_records")),
    )
    op.create_index(
        "ix_support_records_plan_id_id", "support_records", ["plan_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_support_records_trust_id"), "support_records", ["trust_id"], unique=False
    )
    op.create_table(
        "evaluation_settings",
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("hourly_staff_cost", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "hourly_staff_cost IS NULL OR hourly_staff_cost BETWEEN 0 AND 10000",
            name=op.f("ck_evaluation_settings_hourly"),
        ),
        sa.PrimaryKeyConstraint("trust_id", name=op.f("pk_evaluation_settings")),
    )


def downgrade() -> None:
    op.drop_table("evaluation_settings")
    op.drop_index(op.f("ix_support_records_trust_id"), table_name="support_records")
    op.drop_index("ix_support_records_plan_id_id", table_name="support_records")
    op.drop_table("support_records")
    op.drop_constraint(
        op.f("ck_evaluation_plans_pupils_reached"), "evaluation_plans", type_="check"
    )
    op.drop_column("evaluation_plans", "pupils_reached")
