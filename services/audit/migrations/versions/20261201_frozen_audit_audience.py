"""frozen audit audience: who may answer, fixed when the audit opens

Audits already open get their audience from today's directory (the closest we can do for
rounds opened before the snapshot existed); closed audits take no responses and need none.

Revision ID: 20261201_frozen_audience
Revises: 20261201_revocations_heartbeats
Create Date: 2026-12-01 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_frozen_audience"
down_revision: str | None = "20261201_revocations_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_audience",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("staff_group", sa.String(length=40), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("career_stage", sa.String(length=40), nullable=True),
        sa.Column("leadership", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_audience_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audit_id", "person_id", name=op.f("pk_audit_audience")),
    )
    op.create_index(
        op.f("ix_audit_audience_person_id"), "audit_audience", ["person_id"], unique=False
    )
    op.execute(
        """
        INSERT INTO audit_audience
            (audit_id, person_id, trust_id, school_id, staff_group, department, career_stage,
             leadership)
        SELECT a.id, p.id, a.trust_id,
               (SELECT s FROM unnest(p.school_ids) AS s
                 WHERE a.scope_kind = 'trust' OR s = ANY(a.school_ids) ORDER BY s LIMIT 1),
               p.staff_group, p.department, p.career_stage,
               CASE WHEN p.staff_group = 'leader'
                         OR p.roles && ARRAY['school_leader', 'trust_admin']::varchar[]
                    THEN 'leader' ELSE 'staff' END
        FROM audits a
        JOIN people p
          ON p.trust_id = a.trust_id AND p.active
         AND p.staff_group = ANY(a.audience_groups)
         AND (a.scope_kind = 'trust' OR p.school_ids && a.school_ids)
        WHERE a.status = 'open'
        """
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_audience_person_id"), table_name="audit_audience")
    op.drop_table("audit_audience")
