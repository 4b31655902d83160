"""participant voice coaching providers follow-ups

Revision ID: 0003_voice
Revises: 20261201_revocations_heartbeats
Create Date: 2026-12-01 04:23:46.106667
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_voice"
down_revision: str | None = "20261201_revocations_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_up_notices",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "noticed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('gap_task', 'impact_report', 'coaching_session', 'feedback')",
            name=op.f("ck_follow_up_notices_kind"),
        ),
        sa.PrimaryKeyConstraint("kind", "item_id", "due_on", name=op.f("pk_follow_up_notices")),
    )
    op.create_index(
        op.f("ix_follow_up_notices_trust_id"), "follow_up_notices", ["trust_id"], unique=False
    )
    op.create_table(
        "providers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("follow_up", sa.Text(), nullable=True),
        sa.Column("impact_evaluation", sa.Text(), nullable=True),
        sa.Column("quality_corroboration", sa.Text(), nullable=True),
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
            "kind IN ('in_house', 'teaching_school_hub', 'external')",
            name=op.f("ck_providers_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("trust_id", "name", name=op.f("uq_providers_trust_id")),
    )
    op.create_index(op.f("ix_providers_trust_id"), "providers", ["trust_id"], unique=False)
    op.create_table(
        "coaching_agreements",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("coach_id", sa.Uuid(), nullable=False),
        sa.Column("coachee_id", sa.Uuid(), nullable=False),
        sa.Column("agreed_outcomes", sa.Text(), nullable=False),
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
        sa.CheckConstraint("coach_id <> coachee_id", name=op.f("ck_coaching_agreements_pair")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_coaching_agreements_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_agreements")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_coaching_agreements_activity_id")),
    )
    op.create_index(
        op.f("ix_coaching_agreements_coach_id"), "coaching_agreements", ["coach_id"], unique=False
    )
    op.create_index(
        op.f("ix_coaching_agreements_coachee_id"),
        "coaching_agreements",
        ["coachee_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_coaching_agreements_trust_id"), "coaching_agreements", ["trust_id"], unique=False
    )
    op.create_table(
        "coaching_sessions",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("focus", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("impact_noted", sa.Text(), nullable=True),
        sa.Column("next_session_on", sa.Date(), nullable=True),
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
        sa.CheckConstraint("minutes BETWEEN 1 AND 1440", name=op.f("ck_coaching_sessions_minutes")),
        sa.CheckConstraint(
            "next_session_on IS NULL OR next_session_on >= held_on",
            name=op.f("ck_coaching_sessions_next"),
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_coaching_sessions_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_sessions")),
    )
    op.create_index(
        "ix_coaching_sessions_activity_id_held_on",
        "coaching_sessions",
        ["activity_id", "held_on"],
        unique=False,
    )
    op.create_index(
        op.f("ix_coaching_sessions_trust_id"), "coaching_sessions", ["trust_id"], unique=False
    )
    op.create_table(
        "feedback_windows",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_feedback_windows_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_feedback_windows")),
    )
    op.create_index(
        op.f("ix_feedback_windows_trust_id"), "feedback_windows", ["trust_id"], unique=False
    )
    op.create_table(
        "reflections",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("mentor_id", sa.Uuid(), nullable=True),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("tried", sa.Text(), nullable=True),
        sa.Column("pupil_effect", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("shared_as_evidence", sa.Boolean(), nullable=False),
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
            "mentor_id IS NULL OR mentor_id <> author_id", name=op.f("ck_reflections_mentor")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_reflections_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflections")),
    )
    op.create_index(
        op.f("ix_reflections_activity_id"), "reflections", ["activity_id"], unique=False
    )
    op.create_index(op.f("ix_reflections_author_id"), "reflections", ["author_id"], unique=False)
    op.create_index(op.f("ix_reflections_mentor_id"), "reflections", ["mentor_id"], unique=False)
    op.create_index(op.f("ix_reflections_trust_id"), "reflections", ["trust_id"], unique=False)
    op.create_table(
        "feedback",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=True),
        sa.Column("relevance", sa.SmallInteger(), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.Column("expected_impact", sa.SmallInteger(), nullable=False),
        sa.Column("will_do_differently", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "expected_impact BETWEEN 1 AND 5", name=op.f("ck_feedback_expected_impact")
        ),
        sa.CheckConstraint("quality BETWEEN 1 AND 5", name=op.f("ck_feedback_quality")),
        sa.CheckConstraint("relevance BETWEEN 1 AND 5", name=op.f("ck_feedback_relevance")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_feedback_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_feedback_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_feedback_participant_id")),
    )
    op.create_index(op.f("ix_feedback_activity_id"), "feedback", ["activity_id"], unique=False)
    op.create_index(op.f("ix_feedback_trust_id"), "feedback", ["trust_id"], unique=False)
    # Activities recorded before providers existed may name ids no provider has.
    op.execute("UPDATE activities SET provider_id = NULL WHERE provider_id IS NOT NULL")
    op.create_foreign_key(
        op.f("fk_activities_provider_id_providers"),
        "activities",
        "providers",
        ["provider_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_constraint(
        op.f("fk_activities_provider_id_providers"), "activities", type_="foreignkey"
    )
    op.drop_index(op.f("ix_feedback_trust_id"), table_name="feedback")
    op.drop_index(op.f("ix_feedback_activity_id"), table_name="feedback")
    op.drop_table("feedback")
    op.drop_index(op.f("ix_reflections_trust_id"), table_name="reflections")
    op.drop_index(op.f("ix_reflections_mentor_id"), table_name="reflections")
    op.drop_index(op.f("ix_reflections_author_id"), table_name="reflections")
    op.drop_index(op.f("ix_reflections_activity_id"), table_name="reflections")
    op.drop_table("reflections")
    op.drop_index(op.f("ix_feedback_windows_trust_id"), table_name="feedback_windows")
    op.drop_table("feedback_windows")
    op.drop_index(op.f("ix_coaching_sessions_trust_id"), table_name="coaching_sessions")
    op.drop_index("ix_coaching_sessions_activity_id_held_on", table_name="coaching_sessions")
    op.drop_table("coaching_sessions")
    op.drop_index(op.f("ix_coaching_agreements_trust_id"), table_name="coaching_agreements")
    op.drop_index(op.f("ix_coaching_agreements_coachee_id"), table_name="coaching_agreements")
    op.drop_index(op.f("ix_coaching_agreements_coach_id"), table_name="coaching_agreements")
    op.drop_table("coaching_agreements")
    op.drop_index(op.f("ix_providers_trust_id"), table_name="providers")
    op.drop_table("providers")
    op.drop_index(op.f("ix_follow_up_notices_trust_id"), table_name="follow_up_notices")
    op.drop_table("follow_up_notices")
    # ### end Alembic commands ###
