"""SCIM and CSV provisioning: user names, name parts, staff numbers and de-provisioning on
people (one person per user name and per external id in a trust), external ids on groups,
and each trust's de-provisioning policy

Revision ID: 20261201_scim_provisioning
Revises: 20261201_people_name_search
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_scim_provisioning"
down_revision: str | None = "20261201_people_name_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "trusts",
        sa.Column(
            "deprovisioning", sa.String(length=20), server_default="deactivate", nullable=False
        ),
    )
    op.add_column("people", sa.Column("user_name", sa.String(length=320), nullable=True))
    op.add_column("people", sa.Column("given_name", sa.String(length=100), nullable=True))
    op.add_column("people", sa.Column("family_name", sa.String(length=100), nullable=True))
    op.add_column("people", sa.Column("employee_number", sa.String(length=100), nullable=True))
    op.add_column(
        "people", sa.Column("deprovisioned_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("groups", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.create_index(
        "uq_people_trust_user_name",
        "people",
        ["trust_id", sa.text("lower(user_name)")],
        unique=True,
        postgresql_where=sa.text("user_name IS NOT NULL"),
    )
    op.create_index(
        "uq_people_trust_external_id",
        "people",
        ["trust_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_people_trust_external_id", table_name="people")
    op.drop_index("uq_people_trust_user_name", table_name="people")
    op.drop_column("groups", "external_id")
    for column in ("deprovisioned_at", "employee_number", "family_name", "given_name", "user_name"):
        op.drop_column("people", column)
    op.drop_column("trusts", "deprovisioning")
