"""Frozen schema steps that more than one service's Alembic migrations run.

Every domain service keeps the same infrastructure tables (outbox, inbox, dead letters,
idempotency keys, the directory projection, token revocations, worker heartbeats, tombstones).
Their migrations call the functions here instead of holding a copy each.

The rule that makes this safe: **a function here is never edited once a released migration
calls it.** Each is named for the schema it creates and the date of that schema
(``…_20261123``); a migration that has run must create the same schema for ever, so a new or
changed shape gets a new function (``create_tombstones_20270115`` say) called from a new
migration, and the old function stays as it is. The models may move on; the migrations that
follow them say how. ``tests/test_migrations.py`` checks every service's migrations against its
models; the schema these functions write is the one the services' own copies wrote before
(``pg_dump --schema-only`` was the same, byte for byte, when they moved here).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cpd_common.events.outbox import CREATE_NOTIFY_TRIGGER as CREATE_OUTBOX_NOTIFY_TRIGGER
from cpd_common.revocation import CREATE_NOTIFY_TRIGGER as CREATE_REVOCATION_NOTIFY_TRIGGER
from cpd_common.revocation import DROP_NOTIFY_TRIGGER as DROP_REVOCATION_NOTIFY_TRIGGER


def _now_timestamp(name: str = "created_at") -> sa.Column[object]:
    """Frozen like the steps that call it: ``timestamptz NOT NULL DEFAULT now()``."""
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


# ---- 2026-11-23: infrastructure and the directory projection ---------------------------------


def create_infrastructure_and_directory_projection_20261123() -> None:
    """Dead letters, idempotency keys, inbox, outbox (with its notify trigger), and the
    directory projection (``people``, ``schools``) of a domain service's first migration."""
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("event_type", sa.String(length=120), nullable=True),
        sa.Column("trust_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        _now_timestamp(),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(op.f("ix_dead_letters_consumer"), "dead_letters", ["consumer"], unique=False)
    op.create_index(op.f("ix_dead_letters_trust_id"), "dead_letters", ["trust_id"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _now_timestamp(),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        _now_timestamp("handled_at"),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _now_timestamp(),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["seq"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("school_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("staff_group", sa.String(length=40), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("career_stage", sa.String(length=40), nullable=True),
        sa.Column("fte", sa.Float(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("line_manager_id", sa.Uuid(), nullable=True),
        sa.Column("roles", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _now_timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_index(op.f("ix_people_trust_id"), "people", ["trust_id"], unique=False)
    op.create_table(
        "schools",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=True),
        _now_timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
    )
    op.create_index(op.f("ix_schools_trust_id"), "schools", ["trust_id"], unique=False)
    for statement in CREATE_OUTBOX_NOTIFY_TRIGGER:
        op.execute(statement)


def drop_infrastructure_and_directory_projection_20261123() -> None:
    for table in ("schools", "people", "outbox", "inbox", "idempotency_keys", "dead_letters"):
        op.drop_table(table)


# ---- 2026-12-01: token revocations and worker heartbeats --------------------------------------


def create_revocations_and_heartbeats_20261201() -> None:
    """What each token subject may still do (with the trigger that tells every API process at
    once) and the workers' heartbeats (the API's readiness)."""
    op.create_table(
        "token_revocations",
        sa.Column("subject", sa.String(length=140), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(length=40)), nullable=True),
        sa.Column("school_ids", postgresql.ARRAY(sa.Uuid()), nullable=True),
        sa.Column("narrowed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_token_revocations")),
    )
    for statement in CREATE_REVOCATION_NOTIFY_TRIGGER:
        op.execute(statement)
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeats")),
    )


def drop_revocations_and_heartbeats_20261201() -> None:
    op.drop_table("worker_heartbeats")
    for statement in DROP_REVOCATION_NOTIFY_TRIGGER:
        op.execute(statement)
    op.drop_table("token_revocations")


# ---- 2026-12-01: tombstones for incremental sync ----------------------------------------------


def create_tombstones_20261201() -> None:
    """The ``tombstones`` table of :mod:`cpd_common.tombstones` and its sync index."""
    op.create_table(
        "tombstones",
        sa.Column("resource", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("trust_id", sa.Uuid(), nullable=False),
        _now_timestamp("deleted_at"),
        sa.PrimaryKeyConstraint("resource", "id", name=op.f("pk_tombstones")),
    )
    op.create_index(
        "ix_tombstones_sync", "tombstones", ["trust_id", "resource", "deleted_at", "id"]
    )
    op.create_index(op.f("ix_tombstones_deleted_at"), "tombstones", ["deleted_at"])


def drop_tombstones_20261201() -> None:
    op.drop_table("tombstones")


def create_sync_index(table: str) -> None:
    """The (``trust_id``, ``updated_at``, ``id``) index an incrementally synced list reads."""
    op.create_index(f"ix_{table}_trust_id_updated_at_id", table, ["trust_id", "updated_at", "id"])


def drop_sync_index(table: str) -> None:
    op.drop_index(f"ix_{table}_trust_id_updated_at_id", table_name=table)


def add_directory_source_time_20261202() -> None:
    """``people.source_time`` and ``schools.source_time``: the time of the directory event a
    projection row was built from, so an older event arriving later changes nothing."""
    for table in ("people", "schools"):
        op.add_column(table, sa.Column("source_time", sa.DateTime(timezone=True), nullable=True))


def drop_directory_source_time_20261202() -> None:
    for table in ("people", "schools"):
        op.drop_column(table, "source_time")


# ---- 2026-12-02: tombstones of nested and private resources -------------------------------------


def add_tombstone_scope_20261202() -> None:
    """``tombstones.parent_id`` (the parent a nested resource was listed under) and
    ``tombstones.visible_to`` (who could read a private resource)."""
    op.add_column("tombstones", sa.Column("parent_id", sa.Uuid(), nullable=True))
    op.add_column("tombstones", sa.Column("visible_to", postgresql.ARRAY(sa.Uuid()), nullable=True))


def drop_tombstone_scope_20261202() -> None:
    op.drop_column("tombstones", "visible_to")
    op.drop_column("tombstones", "parent_id")


# ---- 2026-12-02: an indexed updated_at on every listed table ---------------------------------


def create_sync_indexes_20261202(leading: dict[str, str]) -> None:
    """``ix_<table>_<column>_updated_at_id`` on (``column``, ``updated_at``, ``id``) of each
    table (what :func:`cpd_common.db.sync_indexes` declares)."""
    for table, column in leading.items():
        op.create_index(f"ix_{table}_{column}_updated_at_id", table, [column, "updated_at", "id"])


def drop_sync_indexes_20261202(leading: dict[str, str]) -> None:
    for table, column in leading.items():
        op.drop_index(f"ix_{table}_{column}_updated_at_id", table_name=table)
