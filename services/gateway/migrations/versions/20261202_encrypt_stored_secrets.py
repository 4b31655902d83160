"""SSO client secrets and webhook signing secrets encrypted at rest (Fernet, CPD_SECRETS_KEY)

The columns are renamed (``client_secret_encrypted``, ``secret_encrypted``) so that no code can
read them as clear text, and every stored secret is encrypted in place with the first key of
``CPD_SECRETS_KEY``. A database without such rows needs no key; one with them and no key
fails here, before anything changes. Downgrading decrypts them again.

Revision ID: 20261202_encrypt_stored_secrets
Revises: 20261202_tombstone_scope
Create Date: 2026-12-02 00:30:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet

revision: str = "20261202_encrypt_stored_secrets"
down_revision: str | None = "20261202_tombstone_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, clear column, encrypted column)
COLUMNS = (
    ("sso_configs", "client_secret", "client_secret_encrypted"),
    ("webhook_subscriptions", "secret", "secret_encrypted"),
)


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in os.environ.get("CPD_SECRETS_KEY", "").split(",") if k.strip()]
    if not keys:
        raise RuntimeError(
            "CPD_SECRETS_KEY is not set: it is needed to encrypt the SSO client secrets and "
            "webhook signing secrets already stored (docs/operations.md, 'Secrets at rest')."
        )
    return MultiFernet([Fernet(k) for k in keys])


def _rewrite(table: str, column: str, *, encrypt: bool) -> None:
    conn = op.get_bind()
    # Every value of the renamed column is clear text before this revision (it is the same
    # column), and encrypted after it: no guessing from the value.
    todo = conn.execute(sa.text(f"SELECT id, {column} FROM {table}")).all()
    if not todo:
        return
    fernet = _fernet()
    for row_id, value in todo:
        new = (
            fernet.encrypt(value.encode()).decode("ascii")
            if encrypt
            else fernet.decrypt(value.encode("ascii")).decode()
        )
        conn.execute(
            sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"),
            {"v": new, "id": row_id},
        )


def upgrade() -> None:
    op.alter_column("webhook_subscriptions", "secret", type_=sa.Text())
    for table, clear, encrypted in COLUMNS:
        op.alter_column(table, clear, new_column_name=encrypted)
        _rewrite(table, encrypted, encrypt=True)


def downgrade() -> None:
    for table, clear, encrypted in COLUMNS:
        _rewrite(table, encrypted, encrypt=False)
        op.alter_column(table, encrypted, new_column_name=clear)
    op.alter_column("webhook_subscriptions", "secret", type_=sa.String(length=100))
