"""instruments audits and anonymous responses

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:22:06.065546
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("framework", sa.String(length=200), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruments")),
        sa.UniqueConstraint("trust_id", "key", name=op.f("uq_instruments_trust_id")),
    )
    op.create_index(op.f("ix_instruments_trust_id"), "instruments", ["trust_id"], unique=False)
    op.create_table(
        "instrument_versions",
        sa.Column("instrument_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sections", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_versions_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_versions")),
        sa.UniqueConstraint(
            "instrument_id", "version", name=op.f("uq_instrument_versions_instrument_id")
        ),
    )
    op.create_index(
        op.f("ix_instrument_versions_instrument_id"),
        "instrument_versions",
        ["instrument_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_instrument_versions_trust_id"), "instrument_versions", ["trust_id"], unique=False
    )
    op.create_table(
        "audits",
        sa.Column("instrument_version_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scope_kind", sa.String(length=10), nullable=False),
        sa.Column("school_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("audience_groups", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("min_group_size", sa.SmallInteger(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=True),
        sa.Column("closes_on", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audience_size", sa.Integer(), nullable=True),
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
            "scope_kind IN ('school', 'schools', 'trust')", name=op.f("ck_audits_scope_kind")
        ),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f("ck_audits_status")),
        sa.CheckConstraint("min_group_size >= 3", name=op.f("ck_audits_min_group_size")),
        sa.ForeignKeyConstraint(
            ["instrument_version_id"],
            ["instrument_versions.id"],
            name=op.f("fk_audits_instrument_version_id_instrument_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audits")),
    )
    op.create_index(
        op.f("ix_audits_instrument_version_id"), "audits", ["instrument_version_id"], unique=False
    )
    op.create_index(op.f("ix_audits_trust_id"), "audits", ["trust_id"], unique=False)
    op.create_table(
        "audit_participations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_participations_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_participations")),
        sa.UniqueConstraint("audit_id", "person_id", name=op.f("uq_audit_participations_audit_id")),
    )
    op.create_index(
        op.f("ix_audit_participations_audit_id"), "audit_participations", ["audit_id"], unique=False
    )
    op.create_index(
        op.f("ix_audit_participations_person_id"),
        "audit_participations",
        ["person_id"],
        unique=False,
    )
    op.create_table(
        "audit_responses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=True),
        sa.Column("staff_group", sa.String(length=40), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("career_stage", sa.String(length=40), nullable=True),
        sa.Column("leadership", sa.String(length=10), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_responses_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_responses")),
    )
    op.create_index(
        op.f("ix_audit_responses_audit_id"), "audit_responses", ["audit_id"], unique=False
    )
    op.create_table(
        "audit_answers",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("item_key", sa.String(length=40), nullable=False),
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("values_score", sa.SmallInteger(), nullable=True),
        sa.Column("practice_score", sa.SmallInteger(), nullable=True),
        sa.Column("dont_know", sa.Boolean(), nullable=False),
        sa.Column("choice", sa.String(length=60), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["audit_responses.id"],
            name=op.f("fk_audit_answers_response_id_audit_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "item_key", name=op.f("pk_audit_answers")),
    )
    op.create_index(
        "ix_audit_answers_audit_id_item_key",
        "audit_answers",
        ["audit_id", "item_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_answers_audit_id_item_key", table_name="audit_answers")
    op.drop_table("audit_answers")
    op.drop_index(op.f("ix_audit_responses_audit_id"), table_name="audit_responses")
    op.drop_table("audit_responses")
    op.drop_index(op.f("ix_audit_participations_person_id"), table_name="audit_participations")
    op.drop_index(op.f("ix_audit_participations_audit_id"), table_name="audit_participations")
    op.drop_table("audit_participations")
    op.drop_index(op.f("ix_audits_trust_id"), table_name="audits")
    op.drop_index(op.f("ix_audits_instrument_version_id"), table_name="audits")
    op.drop_table("audits")
    op.drop_index(op.f("ix_instrument_versions_trust_id"), table_name="instrument_versions")
    op.drop_index(op.f("ix_instrument_versions_instrument_id"), table_name="instrument_versions")
    op.drop_table("instrument_versions")
    op.drop_index(op.f("ix_instruments_trust_id"), table_name="instruments")
    op.drop_table("instruments")
