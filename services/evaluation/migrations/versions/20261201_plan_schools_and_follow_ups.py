"""evaluation plans keep their schools and the person responsible; their due dates become
follow-ups

Revision ID: 20261201_plan_schools
Revises: 20261201_evaluation_plans
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_plan_schools"
down_revision: str | None = "20261201_evaluation_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('gap_task', 'impact_report', 'coaching_session', 'feedback')"
NEW_KINDS = (
    "kind IN ('gap_task', 'impact_report', 'coaching_session', 'feedback', "
    "'evaluation_baseline', 'evaluation_short_term', 'evaluation_medium_term', "
    "'evaluation_report')"
)


def upgrade() -> None:
    op.add_column("evaluation_plans", sa.Column("responsible_id", sa.Uuid(), nullable=True))
    op.add_column(
        "evaluation_plans",
        sa.Column(
            "school_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
    )
    op.alter_column("evaluation_plans", "school_ids", server_default=None)
    op.execute("UPDATE evaluation_plans SET responsible_id = created_by")
    op.execute(
        """
        UPDATE evaluation_plans p SET school_ids = coalesce((
            SELECT array_agg(DISTINCT s ORDER BY s)
            FROM evaluation_plan_activities pa
            JOIN activities a ON a.id = pa.activity_id
            CROSS JOIN LATERAL unnest(a.school_ids) AS s
            WHERE pa.plan_id = p.id
        ), '{}')
        """
    )
    op.create_index(
        "ix_evaluation_plans_school_ids",
        "evaluation_plans",
        ["school_ids"],
        unique=False,
        postgresql_using="gin",
    )
    op.drop_constraint(op.f("ck_follow_up_notices_kind"), "follow_up_notices", type_="check")
    op.create_check_constraint(op.f("ck_follow_up_notices_kind"), "follow_up_notices", NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM follow_up_notices WHERE kind LIKE 'evaluation_%'")
    op.drop_constraint(op.f("ck_follow_up_notices_kind"), "follow_up_notices", type_="check")
    op.create_check_constraint(op.f("ck_follow_up_notices_kind"), "follow_up_notices", OLD_KINDS)
    op.drop_index(
        "ix_evaluation_plans_school_ids", table_name="evaluation_plans", postgresql_using="gin"
    )
    op.drop_column("evaluation_plans", "school_ids")
    op.drop_column("evaluation_plans", "responsible_id")
