"""measures and observations, pupil pseudonym secrets, closed audit rounds and case pupils

Revision ID: 20261201_measures
Revises: 20261201_plan_schools
Create Date: 2026-12-01 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_measures"
down_revision: str | None = "20261201_plan_schools"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_rounds",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("instrument_id", sa.Uuid(), nullable=False),
        sa.Column("instrument_key", sa.String(length=100), nullable=True),
        sa.Column("instrument_version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("scope_kind", sa.String(length=20), nullable=False),
        sa.Column("school_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("respondent_count", sa.Integer(), nullable=True),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_rounds")),
    )
    op.create_index(op.f("ix_audit_rounds_trust_id"), "audit_rounds", ["trust_id"], unique=False)
    op.create_table(
        "case_pupil_lessons",
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("study_id", sa.Uuid(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("taught_on", sa.Date(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("starting_point", sa.Text(), nullable=True),
        sa.Column("success_criteria", sa.Text(), nullable=True),
        sa.Column("stages_total", sa.Integer(), nullable=False),
        sa.Column("stages_met", sa.Integer(), nullable=False),
        sa.Column("stages_partly", sa.Integer(), nullable=False),
        sa.Column("stages_not_yet", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "stages_met + stages_partly + stages_not_yet <= stages_total",
            name=op.f("ck_case_pupil_lessons_stages"),
        ),
        sa.PrimaryKeyConstraint("lesson_id", "label", name=op.f("pk_case_pupil_lessons")),
    )
    op.create_index(
        op.f("ix_case_pupil_lessons_study_id"), "case_pupil_lessons", ["study_id"], unique=False
    )
    op.create_index(
        op.f("ix_case_pupil_lessons_trust_id"), "case_pupil_lessons", ["trust_id"], unique=False
    )
    op.create_table(
        "pseudonym_secrets",
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("trust_id", name=op.f("pk_pseudonym_secrets")),
    )
    op.create_table(
        "audit_round_items",
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("item_key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=True),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("sd", sa.Float(), nullable=True),
        sa.Column("mean_values", sa.Float(), nullable=True),
        sa.Column("sd_values", sa.Float(), nullable=True),
        sa.Column("mean_practice", sa.Float(), nullable=True),
        sa.Column("sd_practice", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("percent_agree", sa.Float(), nullable=True),
        sa.Column("withheld", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audit_rounds.audit_id"],
            name=op.f("fk_audit_round_items_audit_id_audit_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audit_id", "item_key", name=op.f("pk_audit_round_items")),
    )
    op.create_table(
        "measures",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subjects", sa.String(length=10), nullable=False),
        sa.Column("scale_min", sa.Numeric(), nullable=True),
        sa.Column("scale_max", sa.Numeric(), nullable=True),
        sa.Column("scale_description", sa.Text(), nullable=True),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
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
            "kind IN ('test_score', 'teacher_assessment', 'observation_rating', 'work_sample_rating', 'pupil_attitude_survey', 'attendance', 'behaviour_points', 'staff_survey_item', 'staff_confidence')",
            name=op.f("ck_measures_kind"),
        ),
        sa.CheckConstraint("subjects IN ('pupils', 'staff')", name=op.f("ck_measures_subjects")),
        sa.CheckConstraint(
            "scale_min IS NULL OR scale_max IS NULL OR scale_min < scale_max",
            name=op.f("ck_measures_scale"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["evaluation_plans.id"],
            name=op.f("fk_measures_plan_id_evaluation_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
        sa.UniqueConstraint("plan_id", "name", name=op.f("uq_measures_plan_id")),
    )
    op.create_index(op.f("ix_measures_plan_id"), "measures", ["plan_id"], unique=False)
    op.create_index(op.f("ix_measures_trust_id"), "measures", ["trust_id"], unique=False)
    op.create_table(
        "plan_audit_rounds",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("baseline_audit_id", sa.Uuid(), nullable=False),
        sa.Column("outcome_audit_id", sa.Uuid(), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "baseline_audit_id <> outcome_audit_id",
            name=op.f("ck_plan_audit_rounds_distinct_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["baseline_audit_id"],
            ["audit_rounds.audit_id"],
            name=op.f("fk_plan_audit_rounds_baseline_audit_id_audit_rounds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["outcome_audit_id"],
            ["audit_rounds.audit_id"],
            name=op.f("fk_plan_audit_rounds_outcome_audit_id_audit_rounds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["evaluation_plans.id"],
            name=op.f("fk_plan_audit_rounds_plan_id_evaluation_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_audit_rounds")),
    )
    op.create_index(
        op.f("ix_plan_audit_rounds_trust_id"), "plan_audit_rounds", ["trust_id"], unique=False
    )
    op.create_table(
        "plan_lesson_studies",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("study_id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["evaluation_plans.id"],
            name=op.f("fk_plan_lesson_studies_plan_id_evaluation_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "study_id", name=op.f("pk_plan_lesson_studies")),
    )
    op.create_index(
        op.f("ix_plan_lesson_studies_trust_id"), "plan_lesson_studies", ["trust_id"], unique=False
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("measure_id", sa.Uuid(), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Numeric(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=True),
        sa.Column("disadvantaged", sa.Boolean(), nullable=False),
        sa.Column("send", sa.Boolean(), nullable=False),
        sa.Column("year_group", sa.String(length=20), nullable=True),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "phase IN ('baseline', 'short_term', 'medium_term')", name=op.f("ck_observations_phase")
        ),
        sa.CheckConstraint(
            "\"group\" IN ('cpd', 'comparison')", name=op.f("ck_observations_group")
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measures.id"],
            name=op.f("fk_observations_measure_id_measures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
        sa.UniqueConstraint(
            "measure_id", "subject_key", "phase", name=op.f("uq_observations_measure_id")
        ),
    )
    op.create_index(
        "ix_observations_measure_id_id", "observations", ["measure_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_observations_measure_id_id", table_name="observations")
    op.drop_table("observations")
    op.drop_index(op.f("ix_plan_lesson_studies_trust_id"), table_name="plan_lesson_studies")
    op.drop_table("plan_lesson_studies")
    op.drop_index(op.f("ix_plan_audit_rounds_trust_id"), table_name="plan_audit_rounds")
    op.drop_table("plan_audit_rounds")
    op.drop_index(op.f("ix_measures_trust_id"), table_name="measures")
    op.drop_index(op.f("ix_measures_plan_id"), table_name="measures")
    op.drop_table("measures")
    op.drop_table("audit_round_items")
    op.drop_table("pseudonym_secrets")
    op.drop_index(op.f("ix_case_pupil_lessons_trust_id"), table_name="case_pupil_lessons")
    op.drop_index(op.f("ix_case_pupil_lessons_study_id"), table_name="case_pupil_lessons")
    op.drop_table("case_pupil_lessons")
    op.drop_index(op.f("ix_audit_rounds_trust_id"), table_name="audit_rounds")
    op.drop_table("audit_rounds")
