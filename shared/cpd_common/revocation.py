"""Token revocation: tokens stop working as soon as the directory takes access away.

Access tokens live 15 minutes, but a person who is erased, deactivated or demoted (a role or a
school removed), or an API client that is revoked, must lose access at once. Every service keeps
a ``token_revocations`` table: one row per token subject (``person:<id>`` or
``client:<client_id>``) whose access was ever narrowed, holding what it may still do. The
services' workers write it from ``directory.*`` events; the gateway writes its own in the same
transaction as the directory change.

Checking a token costs no database round trip: each API process keeps the recent rows in memory
(:class:`RevocationCache`), kept current by a trigger that ``NOTIFY``s every change, plus a full
reload now and then and after any reconnect. Writes are exact as well: before a write commits,
:func:`guard_write` takes a shared advisory lock on the token's subject and re-reads its row in
the transaction, while whoever narrows access takes the same lock exclusively first
(:func:`lock_subject`). So an erasure's sweep either sees a concurrent write (and removes it) or
the write sees the erasure (and is refused): nothing written with a stale token survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, DateTime, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.errors import ServiceUnavailable, Unauthorized

if TYPE_CHECKING:
    import asyncpg

    from cpd_common.auth import Principal

log = logging.getLogger("cpd.revocation")

TABLE = "token_revocations"
CHANNEL = "cpd_token_revocations"
REFUSED = "This token no longer grants access; sign in again."
# The subjects a transaction changed, in ``session.info``: after its commit, the API process
# that made it reloads its cache before answering (other processes hear the NOTIFY).
CHANGED = "token_revocations_changed"

# Used by each service's migration: tell every API process about a changed row at commit.
# (Separate statements: the asyncpg driver prepares each one.)
CREATE_NOTIFY_TRIGGER = (
    f"""CREATE OR REPLACE FUNCTION cpd_token_revocations_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', row_to_json(NEW)::text);
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER token_revocations_notify AFTER INSERT OR UPDATE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION cpd_token_revocations_notify()",
)
DROP_NOTIFY_TRIGGER = (
    f"DROP TRIGGER IF EXISTS token_revocations_notify ON {TABLE}",
    "DROP FUNCTION IF EXISTS cpd_token_revocations_notify()",
)


class TokenRevocationMixin:
    """``class TokenRevocation(TokenRevocationMixin, Base): pass`` (the table name is fixed: the
    trigger and the cache's SQL use it)."""

    __tablename__ = TABLE

    subject: Mapped[str] = mapped_column(String(140), primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    active: Mapped[bool] = mapped_column(Boolean)
    # What the subject holds now; null: not narrowed that way.
    roles: Mapped[list[str] | None] = mapped_column(ARRAY(String(40)))
    school_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid))
    # A token issued before this that carries more roles or schools than the above is refused.
    narrowed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Every token issued before this is refused (deactivation, erasure, client revocation).
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )


@dataclass(frozen=True)
class Grant:
    """A subject's row: what its tokens may still carry."""

    active: bool
    roles: frozenset[str] | None
    school_ids: frozenset[uuid.UUID] | None
    narrowed_at: float
    deactivated_at: float | None
    updated_at: float

    @classmethod
    def from_row(cls, row: Any) -> Grant:
        get = row.get if isinstance(row, dict) else row.__getitem__

        def ts(value: Any) -> float | None:
            if value is None:
                return None
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return float(value.timestamp())

        roles = get("roles")
        schools = get("school_ids")
        return cls(
            active=bool(get("active")),
            roles=None if roles is None else frozenset(roles),
            school_ids=None if schools is None else frozenset(uuid.UUID(str(s)) for s in schools),
            narrowed_at=ts(get("narrowed_at")) or 0.0,
            deactivated_at=ts(get("deactivated_at")),
            updated_at=ts(get("updated_at")) or 0.0,
        )

    def refuses(self, principal: Principal) -> bool:
        """True when a token with this principal's claims must no longer be honoured.

        ``iat`` has whole seconds; a change at 100.4 s refuses tokens stamped 100 or earlier
        only when they carry what was taken away, so a token signed right after the change
        (also stamped 100, with the narrowed claims) still works."""
        issued_at = float(principal.claims.get("iat") or 0)
        if not self.active:
            return True
        if self.deactivated_at is not None and issued_at < math.ceil(self.deactivated_at):
            return True
        if issued_at < math.ceil(self.narrowed_at):
            if self.roles is not None and not principal.roles <= self.roles:
                return True
            if self.school_ids is not None and not principal.school_ids <= self.school_ids:
                return True
        return False


def subject_of_person(person_id: uuid.UUID) -> str:
    return f"person:{person_id}"


def subject_of_client(client_id: str) -> str:
    return f"client:{client_id}"


_LOCK_EXCLUSIVE = text("SELECT pg_advisory_xact_lock(hashtext('cpd_tokens'), hashtext(:subject))")
_LOCK_SHARED = text(
    "SELECT pg_advisory_xact_lock_shared(hashtext('cpd_tokens'), hashtext(:subject))"
)
_READ_ONE = text(
    f"SELECT active, roles, school_ids, narrowed_at, deactivated_at, updated_at FROM {TABLE} "
    "WHERE subject = :subject"
)


async def lock_subject(session: AsyncSession, subject: str) -> None:
    """Waits for every in-flight write made with this subject's tokens, and holds them off
    until the caller's transaction ends. Call it before narrowing access or sweeping data."""
    await session.execute(_LOCK_EXCLUSIVE, {"subject": subject})


async def record(
    session: AsyncSession,
    model: type[Any],
    *,
    subject: str,
    trust_id: uuid.UUID,
    active: bool,
    roles: list[str] | None,
    school_ids: list[uuid.UUID] | None,
    at: datetime,
    narrowed: bool,
    deactivated: bool,
) -> None:
    """Stores what ``subject`` holds now. ``narrowed``: something was taken away at ``at``;
    ``deactivated``: every token issued before ``at`` is void. Takes the subject's lock."""
    await lock_subject(session, subject)
    session.info.setdefault(CHANGED, set()).add(subject)
    values: dict[str, Any] = {
        "subject": subject,
        "trust_id": trust_id,
        "active": active,
        "roles": roles,
        "school_ids": school_ids,
        "narrowed_at": at,
        "deactivated_at": at if deactivated else None,
        "updated_at": func.clock_timestamp(),
    }
    stmt = insert(model).values(values)
    update: dict[str, Any] = {
        "active": stmt.excluded.active,
        "roles": stmt.excluded.roles,
        "school_ids": stmt.excluded.school_ids,
        "updated_at": func.clock_timestamp(),
    }
    if narrowed:
        update["narrowed_at"] = func.greatest(model.narrowed_at, stmt.excluded.narrowed_at)
    if deactivated:
        update["deactivated_at"] = func.greatest(model.deactivated_at, stmt.excluded.deactivated_at)
    await session.execute(stmt.on_conflict_do_update(index_elements=["subject"], set_=update))


async def update_if_tracked(
    session: AsyncSession,
    model: type[Any],
    *,
    subject: str,
    active: bool,
    roles: list[str] | None,
    school_ids: list[uuid.UUID] | None,
) -> None:
    """Widening access (a role or school added, reactivation) only refreshes an existing row:
    a subject that was never narrowed needs none."""
    session.info.setdefault(CHANGED, set()).add(subject)
    await session.execute(
        model.__table__.update()
        .where(model.subject == subject)
        .values(
            active=active,
            roles=roles,
            school_ids=school_ids,
            updated_at=func.clock_timestamp(),
        )
    )


def narrowing(
    *,
    old_roles: list[str] | None,
    old_school_ids: list[uuid.UUID] | None,
    old_active: bool | None,
    roles: list[str],
    school_ids: list[uuid.UUID],
    active: bool,
) -> tuple[bool, bool]:
    """(narrowed, deactivated) between a subject's previous and new grants."""
    if old_active is None:
        return False, False
    deactivated = bool(old_active) and not active
    narrowed = (
        deactivated
        or not set(old_roles or []) <= set(roles)
        or not set(old_school_ids or []) <= set(school_ids)
    )
    return narrowed, deactivated


async def guard_write(session: AsyncSession, principal: Principal) -> None:
    """Before a write commits: refuse it (401) if the token was revoked meanwhile. The shared
    lock is held until the commit, so a concurrent erasure waits for this write and sweeps it.
    A write that itself narrows its own caller (an admin leaving the admin role) stands."""
    if principal.sub in session.info.get(CHANGED, ()):
        return
    await session.execute(_LOCK_SHARED, {"subject": principal.sub})
    row = (await session.execute(_READ_ONE, {"subject": principal.sub})).mappings().first()
    if row is not None and Grant.from_row(dict(row)).refuses(principal):
        raise Unauthorized(REFUSED)


def _asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class RevocationCache:
    """The recent ``token_revocations`` rows of one database, in memory.

    A background task holds one connection that ``LISTEN``s to the table's trigger and reloads
    everything every ``reload_interval`` seconds and after each reconnect. Rows older than the
    longest token lifetime are left out: every token they could refuse has expired, and the
    gateway signs no token for a person or client it has deactivated."""

    def __init__(
        self,
        database_url: str,
        *,
        max_token_age: float = 3600.0,
        reload_interval: float = 30.0,
        retry_after: int = 2,
    ) -> None:
        self.retry_after = retry_after
        self.dsn = _asyncpg_dsn(database_url)
        self.max_token_age = max_token_age
        self.reload_interval = reload_interval
        self.grants: dict[str, Grant] = {}
        self.loaded = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._conn_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._lost = asyncio.Event()

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self, *, wait: float = 2.0) -> None:
        self._task = asyncio.create_task(self._run(), name="token-revocations")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.loaded.wait(), wait)

    async def close(self) -> None:
        self._closing.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _run(self) -> None:
        import asyncpg

        backoff = 0.2
        while not self._closing.is_set():
            try:
                conn = await asyncpg.connect(
                    self.dsn,
                    timeout=5,
                    server_settings={"application_name": "cpd-token-revocations"},
                )
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("revocation listener cannot connect: %s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._lost.clear()
            conn.add_termination_listener(lambda _c: self._lost.set())
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                self._conn = conn
                # After LISTEN, so no change can fall between the load and the first notice.
                await self.reload()
                self.loaded.set()
                backoff = 0.2
                while not self._closing.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._lost.wait(), self.reload_interval)
                    if self._lost.is_set() or conn.is_closed():
                        break
                    await self.reload()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("revocation listener lost its connection: %s", type(exc).__name__)
            finally:
                self._conn = None
                with contextlib.suppress(Exception):
                    await conn.close()
            await asyncio.sleep(backoff)

    # ---- state ----------------------------------------------------------------------------

    async def reload(self) -> None:
        """Reads every recent row again (also a barrier: anything committed before the call
        is known after it)."""
        conn = self._conn
        if conn is None:
            return
        async with self._conn_lock:
            rows = await conn.fetch(
                f"SELECT subject, active, roles, school_ids, narrowed_at, deactivated_at, "
                f"updated_at FROM {TABLE} WHERE greatest(narrowed_at, deactivated_at) > "
                "now() - make_interval(secs => $1)",
                self.max_token_age,
            )
        fresh = {row["subject"]: Grant.from_row(dict(row)) for row in rows}
        # A notice handled while the query ran may be newer than what it read.
        for subject, grant in self.grants.items():
            if subject in fresh and grant.updated_at > fresh[subject].updated_at:
                fresh[subject] = grant
        self.grants = fresh

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            row = json.loads(payload)
            grant = Grant.from_row(row)
            subject = str(row["subject"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable revocation notice")
            return
        current = self.grants.get(subject)
        if current is None or grant.updated_at >= current.updated_at:
            self.grants[subject] = grant

    def check(self, principal: Principal) -> None:
        """Raises 401 when the principal's token has been revoked (503 before the first load:
        a token is never honoured without knowing whether it was revoked). No I/O."""
        if not self.loaded.is_set():
            raise ServiceUnavailable(
                "Token revocations are not loaded yet; retry shortly.",
                headers={"Retry-After": str(self.retry_after)},
            )
        grant = self.grants.get(principal.sub)
        if grant is not None and grant.refuses(principal):
            raise Unauthorized(REFUSED)

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()
