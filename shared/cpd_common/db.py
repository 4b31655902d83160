"""Database helpers: async engine, per-request session, declarative base factory, UUIDv7 ids."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import uuid_utils
from fastapi import Depends, Request
from sqlalchemy import DateTime, Index, MetaData, Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.types import Uuid

from cpd_common import revocation
from cpd_common.errors import is_unique_violation

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """Each service has its own MetaData with the shared naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def uuid7() -> uuid.UUID:
    """Time-ordered UUIDv7 as a stdlib UUID (sorts by creation time, so ``ORDER BY id`` is stable)."""
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow, onupdate=utcnow
    )


class TenantMixin:
    """Every row that belongs to a tenant carries ``trust_id`` (indexed: every query filters by it)."""

    @declared_attr
    def trust_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(Uuid, index=True)


def create_engine(
    url: str, *, pool_size: int = 20, max_overflow: int = 0, **kw: Any
) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        # A dead connection after a PostgreSQL restart is dropped from the pool on first error.
        pool_recycle=1800,
        connect_args={"timeout": 5, "command_timeout": 30, "server_settings": {"timezone": "UTC"}},
        **kw,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextlib.asynccontextmanager
async def one_of_a_kind(session: AsyncSession, conflict: Exception) -> AsyncIterator[None]:
    """Runs the block in a savepoint and turns a unique violation into ``conflict`` (a 409).

    For "one X per Y" rules backed by a unique constraint: of concurrent requests, the
    constraint lets one insert win and the others wait, then fail here; the savepoint keeps
    the request's transaction usable. Flush inside the block so the insert happens in it.
    """
    try:
        async with session.begin_nested():
            yield
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise conflict from exc
        raise


async def known_ids(
    session: AsyncSession, id_column: Any, ids: Iterable[uuid.UUID], *where: Any
) -> set[uuid.UUID]:
    """Which of ``ids`` are ids of rows of ``id_column``'s table that match ``where`` (say,
    ``School.trust_id == trust_id``): what a request refers to that exists for it."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(
        (await session.scalars(select(id_column).where(id_column.in_(wanted), *where))).all()
    )


SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def where_given(stmt: SelectT, *filters: tuple[Any, object]) -> SelectT:
    """Adds ``column == value`` for each ``(column, value)`` whose value is given (not None):
    the optional equality filters of a list (``?status=``, ``?school_id=`` ...)."""
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


RowT = TypeVar("RowT")


async def scalar_or_raise(
    session: AsyncSession, stmt: Select[RowT], not_found: type[Exception]
) -> RowT:
    """The row ``stmt`` selects, or ``not_found()`` raised: get-or-404, where ``not_found`` is
    the domain's ``…NotFound`` (so a row the caller may not see reads as one that is not
    there)."""
    row = await session.scalar(stmt)
    if row is None:
        raise not_found()
    return row


def upsert(model: type[Any], values: dict[str, Any], *, key: Sequence[str]) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE`` that sets every other column of ``values`` to
    the new row's: a one-row-per-key setting or projection written whether or not it exists.
    Returns the statement (add ``.returning(...)`` as needed) for the caller to execute."""
    stmt = insert(model).values(values)
    return stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={name: stmt.excluded[name] for name in values if name not in key},
    )


async def save_trust_settings(
    session: AsyncSession,
    model: type[Any],
    *,
    trust_id: uuid.UUID,
    by: uuid.UUID | None,
    **values: Any,
) -> None:
    """Writes a trust's one row of a per-trust settings table (``trust_id`` its key, with
    ``updated_by`` and ``updated_at``), created or changed; the session's objects are expired
    so a read after it sees the new values."""
    row = {"trust_id": trust_id, **values, "updated_by": by, "updated_at": utcnow()}
    await session.execute(upsert(model, row, key=["trust_id"]))
    session.expire_all()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent.

    Used with ``Depends(get_session, scope="function")``: FastAPI closes function-scoped
    dependencies after the endpoint returns and before the response is sent, so a failed
    commit turns into an error response instead of a lost write after a 2xx.
    Safe methods run on an autocommit connection: one round trip per read, no BEGIN/ROLLBACK.
    """
    state = request.app.state
    if request.method in SAFE_METHODS:
        session = AsyncSession(bind=state.read_engine, expire_on_commit=False, autoflush=False)
        request.state.db_session = session
        try:
            yield session
        finally:
            await session.close()
        return
    session = state.sessionmaker()
    request.state.db_session = session
    try:
        yield session
        revocations = getattr(state, "revocations", None)
        principal = getattr(request.state, "principal", None)
        if revocations is not None and principal is not None:
            # A token revoked while this request ran must not leave its write behind.
            await revocation.guard_write(session, principal)
        changed = session.info.pop(revocation.CHANGED, None)
        await session.commit()
        if changed and revocations is not None:
            # This replica refuses the revoked tokens from its next request on.
            await revocations.reload()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def sync_indexes(metadata: MetaData, leading: dict[str, str]) -> None:
    """Indexes for incremental sync (``?updated_since=``): ``(column, updated_at, id)`` on each
    listed table, ``column`` being what its list filters by (``trust_id`` for a top-level list,
    the parent's id for a nested one), named ``ix_<table>_<column>_updated_at_id``."""
    for table_name, column in leading.items():
        table = metadata.tables[table_name]
        Index(
            f"ix_{table_name}_{column}_updated_at_id",
            table.c[column],
            table.c.updated_at,
            table.c.id,
        )
