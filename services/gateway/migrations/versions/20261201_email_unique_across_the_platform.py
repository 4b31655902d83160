"""emails are unique across the platform (they are login names), held by a constraint

Revision ID: 20261201_email_unique
Revises: 0001
Create Date: 2026-12-01 04:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261201_email_unique"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE people SET email = lower(email) WHERE email <> lower(email)")
    op.drop_constraint("uq_people_trust_email", "people", type_="unique")
    op.create_unique_constraint("uq_people_email", "people", ["email"])


def downgrade() -> None:
    op.drop_constraint("uq_people_email", "people", type_="unique")
    op.create_unique_constraint("uq_people_trust_email", "people", ["trust_id", "email"])
