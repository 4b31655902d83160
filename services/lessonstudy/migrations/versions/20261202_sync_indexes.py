"""incremental sync on every list: (trust or parent, updated_at, id) indexes

Revision ID: 20261202_sync_indexes
Revises: 20261202_tombstone_scope
Create Date: 2026-12-02 01:30:00
"""

from collections.abc import Sequence

from cpd_common import migration_ops

revision: str = "20261202_sync_indexes"
down_revision: str | None = "20261202_tombstone_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen: the tables and leading columns of this revision (the models' SYNC_INDEXES then).
LEADING = {
    "lesson_studies": "trust_id",
    "study_members": "study_id",
    "case_pupils": "study_id",
    "research_lessons": "study_id",
    "observations": "lesson_id",
    "pupil_interviews": "lesson_id",
    "time_records": "study_id",
    "enquiries": "trust_id",
    "enquiry_members": "enquiry_id",
    "enquiry_data_entries": "enquiry_id",
    "enquiry_findings": "enquiry_id",
    "enquiry_validity_checks": "enquiry_id",
    "enquiry_replications": "enquiry_id",
    "enquiry_disseminations": "enquiry_id",
    "enquiry_pupil_voice": "enquiry_id",
    "enquiry_case_pupils": "enquiry_id",
    "enquiry_time_records": "enquiry_id",
    "learning_communities": "trust_id",
    "community_meetings": "community_id",
    "community_activities": "community_id",
    "community_shares": "community_id",
    "community_members": "community_id",
}


def upgrade() -> None:
    migration_ops.create_sync_indexes_20261202(LEADING)


def downgrade() -> None:
    migration_ops.drop_sync_indexes_20261202(LEADING)
