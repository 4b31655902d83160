"""people picker: an index on (trust_id, lower(name)) for finding names by their start

Revision ID: 20261201_people_name_search
Revises: 20261201_erasure_confirmations
Create Date: 2026-12-01 07:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261201_people_name_search"
down_revision: str | None = "20261201_erasure_confirmations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_people_trust_id_name_search ON people "
        "(trust_id, lower(name) text_pattern_ops)"
    )


def downgrade() -> None:
    op.drop_index("ix_people_trust_id_name_search", table_name="people")
