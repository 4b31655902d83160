"""Tombstones: what incremental sync (``?updated_since=``) says about deleted resources.

A list synced by ``updated_since`` cannot show a row that is gone, so every delete (or erasure)
path of a listed resource records a tombstone in the same transaction: the resource's table
name, its id, its trust and when it went. Sync pages return it as ``{id, deleted: true,
updated_at}`` in the (``updated_at``, ``id``) order of the list (:mod:`cpd_common.pagination`).
Kept for :data:`KEEP_FOR` (the worker's housekeeping prunes older ones).

- A resource listed under a parent (``/v1/evaluations/{plan_id}/measures``) records the
  parent's id (``parent_id``): the parent's list sync shows it, no other list does.
- A resource not every reader of its list may see records who could read it when it went
  (``visible_to``, its *audience*, built by :func:`audience`): its tombstone goes only to
  them, so its existence is revealed to no one who could not have read it. A private one (a
  career plan, a reflection, a self-audit, a coaching log entry ...) names people: the owner,
  the mentors or coach it was shared with (not even a trust admin, who cannot read a career
  plan). A group, a lesson-study enquiry or an evaluation plan names its members and the
  roles that read it trust-wide (trust admins) or in its schools (the leaders of those
  schools); a webhook subscription the API client that owns it. ``visible_to`` NULL: anyone
  who can read the list (the list's own rules decide that).

An audience is a list of *reader marks* (UUIDs): a person's id, or a name-based UUID for an
API client, a role across the trust or a role in one school. A caller reads a tombstone when
one of its own marks (:func:`reader_marks`, from its token) is in the audience.

Routes delete through :func:`delete` (one row) and bulk paths through :func:`delete_where`,
which record the tombstones and delete together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, DateTime, Index, String, Table, Uuid, func, literal, text
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from cpd_common.auth import Principal
from cpd_common.db import utcnow

KEEP_FOR = timedelta(days=35)

# The namespace of the name-based reader marks (never a person's id: those are random UUIDs).
_MARKS = uuid.UUID("6f0e8a52-3c1d-5b7e-9a44-1c2d3e4f5a6b")


def _mark(name: str) -> uuid.UUID:
    return uuid.uuid5(_MARKS, name)


def client_mark(client_id: str) -> uuid.UUID:
    """The reader mark of an API client."""
    return _mark(f"client:{client_id}")


def role_mark(role: str, school_id: uuid.UUID | None = None) -> uuid.UUID:
    """The reader mark of everyone holding ``role`` in the trust, or in ``school_id``."""
    return _mark(f"role:{role}" if school_id is None else f"role:{role}@{school_id}")


def reader_marks(principal: Principal) -> list[uuid.UUID]:
    """Every mark ``principal`` reads a tombstone by: its own id (person or API client), each
    of its roles across the trust and in each of its schools."""
    marks: list[uuid.UUID] = []
    if principal.person_id is not None:
        marks.append(principal.person_id)
    if principal.client_id is not None:
        marks.append(client_mark(principal.client_id))
    for role in sorted(principal.roles):
        marks.append(role_mark(role))
        marks.extend(role_mark(role, school) for school in sorted(principal.school_ids))
    return marks


def audience(
    *,
    people: Iterable[uuid.UUID | None] = (),
    clients: Iterable[str | None] = (),
    roles: Iterable[str] = (),
    school_roles: Iterable[str] = (),
    schools: Iterable[uuid.UUID] = (),
) -> list[uuid.UUID]:
    """Who could read a resource, as reader marks: these ``people`` and API ``clients``,
    whoever holds one of ``roles`` in the trust, and whoever holds one of ``school_roles`` in
    one of ``schools``."""
    schools = list(schools)
    marks = {p for p in people if p is not None}
    marks |= {client_mark(c) for c in clients if c}
    marks |= {role_mark(r) for r in roles}
    marks |= {role_mark(r, s) for r in school_roles for s in schools}
    return sorted(marks)


class TombstoneMixin:
    """A service's ``tombstones`` table: ``class Tombstone(TombstoneMixin, Base)``."""

    __tablename__ = "tombstones"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        return (Index("ix_tombstones_sync", "trust_id", "resource", "deleted_at", "id"),)

    resource: Mapped[str] = mapped_column(String(100), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    deleted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    # The parent the resource was listed under (a nested list), if any.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Who could read it, as reader marks (:func:`audience`); NULL: every reader of the list.
    visible_to: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid), nullable=True)


def _table(target: Any) -> Table:
    table = target.metadata.tables.get("tombstones")
    if table is None:
        raise RuntimeError(f"{target!r}'s service has no tombstones table")
    return table


async def record(
    session: AsyncSession,
    model: Any,
    *,
    resource: str,
    ids: Iterable[uuid.UUID],
    trust_id: uuid.UUID,
    parent_id: uuid.UUID | None = None,
    visible_to: Iterable[uuid.UUID] | None = None,
) -> None:
    """Records that ``ids`` of ``resource`` (the table name of the listed model) are gone.
    ``model``: the service's Tombstone model (or any model of that service)."""
    ids = list(ids)
    if not ids:
        return
    readers = sorted(set(visible_to)) if visible_to is not None else None
    now = utcnow()
    stmt = insert(_table(model)).values(
        [
            {
                "resource": resource,
                "id": i,
                "trust_id": trust_id,
                "deleted_at": now,
                "parent_id": parent_id,
                "visible_to": readers,
            }
            for i in ids
        ]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["resource", "id"],
            set_={
                "deleted_at": stmt.excluded.deleted_at,
                "parent_id": stmt.excluded.parent_id,
                "visible_to": stmt.excluded.visible_to,
            },
        )
    )


async def delete(
    session: AsyncSession,
    row: Any,
    *,
    trust_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    visible_to: Iterable[uuid.UUID] | None = None,
) -> None:
    """Deletes ``row`` (an ORM object of a listed model) and records its tombstone.
    ``trust_id`` defaults to the row's own."""
    await record(
        session,
        row,
        resource=row.__tablename__,
        ids=[row.id],
        trust_id=trust_id if trust_id is not None else row.trust_id,
        parent_id=parent_id,
        visible_to=visible_to,
    )
    await session.delete(row)
    await session.flush()


async def delete_where(
    session: AsyncSession,
    model: Any,
    *where: Any,
    trust: Any = None,
    parent: Any = None,
    readers: Sequence[Any] = (),
    visible_to: Iterable[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    """Bulk-deletes the ``model`` rows matching ``where`` and records a tombstone for each:
    ``trust`` and ``parent`` are the model's columns holding the trust (default ``trust_id``)
    and the parent it is listed under; a private resource names the columns of the people who
    could read it (``readers``) or lists them (``visible_to``). Returns the ids deleted."""
    columns = [model.id, trust if trust is not None else model.trust_id]
    columns.append(parent if parent is not None else literal(None, Uuid))
    columns += readers
    result = await session.execute(
        sql_delete(model)
        .where(*where)
        .returning(*columns)
        .execution_options(synchronize_session=False)
    )
    gone = result.all()
    private = bool(readers) or visible_to is not None
    fixed = list(visible_to or ())
    groups: dict[tuple[Any, Any, tuple[uuid.UUID, ...] | None], list[uuid.UUID]] = {}
    for row in gone:
        people = tuple(sorted({*fixed, *(p for p in row[3:] if p is not None)}))
        groups.setdefault((row[1], row[2], people if private else None), []).append(row[0])
    for (trust_id, parent_id, people_of), ids in groups.items():
        await record(
            session,
            model,
            resource=model.__tablename__,
            ids=ids,
            trust_id=trust_id,
            parent_id=parent_id,
            visible_to=people_of,
        )
    return [row[0] for row in gone]


async def prune_expired(session: AsyncSession) -> None:
    """Forgets tombstones older than ``KEEP_FOR`` (the worker's housekeeping, hourly)."""
    await session.execute(
        text("DELETE FROM tombstones WHERE deleted_at <= now() - make_interval(secs => :keep)"),
        {"keep": KEEP_FOR.total_seconds()},
    )
