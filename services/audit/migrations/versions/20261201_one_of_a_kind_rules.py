"""one of a kind: accepted suggestions (one need per audit item, school and team) and one
career plan per person and academic year, both held by constraints

Revision ID: 20261201_one_of_a_kind
Revises: 0003
Create Date: 2026-12-01 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_one_of_a_kind"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accepted_suggestions",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("item_key", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["needs.id"],
            name=op.f("fk_accepted_suggestions_need_id_needs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "audit_id", "item_key", "school_id", "team", name=op.f("pk_accepted_suggestions")
        ),
    )
    op.create_index(op.f("ix_accepted_suggestions_need_id"), "accepted_suggestions", ["need_id"])
    op.create_index(op.f("ix_accepted_suggestions_trust_id"), "accepted_suggestions", ["trust_id"])
    # Needs accepted before this rule existed: the oldest need made from each suggestion
    # (one linked item, survey evidence) holds its place; later copies stay in the register
    # as they are, for people to merge or drop.
    op.execute(
        """
        INSERT INTO accepted_suggestions (audit_id, item_key, school_id, team, trust_id, need_id)
        SELECT DISTINCT ON (l.audit_id, l.item_key, n.school_id, team)
               l.audit_id, l.item_key, n.school_id,
               CASE WHEN n.level = 'team' THEN lower(btrim(coalesce(n.team_name, ''))) ELSE '' END
                   AS team,
               n.trust_id, n.id
        FROM needs n
        JOIN need_audit_items l ON l.need_id = n.id
        WHERE n.level IN ('whole_school', 'team')
          AND n.evidence @> '[{"source": "survey"}]'::jsonb
          AND (SELECT count(*) FROM need_audit_items o WHERE o.need_id = n.id) = 1
        ORDER BY l.audit_id, l.item_key, n.school_id, team, n.created_at, n.id
        """
    )
    # A second plan of one person for one year (possible before the rule) becomes undated
    # rather than lost.
    op.execute(
        """
        UPDATE career_plans SET start_year = NULL
        WHERE id IN (
            SELECT id FROM (
                SELECT id, row_number() OVER (
                    PARTITION BY owner_id, start_year ORDER BY created_at, id
                ) AS n
                FROM career_plans WHERE start_year IS NOT NULL
            ) ranked
            WHERE n > 1
        )
        """
    )
    op.create_unique_constraint(
        op.f("uq_career_plans_owner_id"), "career_plans", ["owner_id", "start_year"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_career_plans_owner_id"), "career_plans", type_="unique")
    op.drop_index(op.f("ix_accepted_suggestions_trust_id"), table_name="accepted_suggestions")
    op.drop_index(op.f("ix_accepted_suggestions_need_id"), table_name="accepted_suggestions")
    op.drop_table("accepted_suggestions")
