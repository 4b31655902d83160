"""Transactional outbox and its relay.

A service never publishes from a request handler: :func:`add` (``events.add(session,
AuditOpened(...))``) inserts the event into the service's ``outbox`` table in the request's
own transaction. The relay (in the worker process) claims a batch of pending rows in order
and publishes them to JetStream (``Nats-Msg-Id`` = event id) as one atomic batch, which the
broker stores whole or not at all and acknowledges once; when it refuses the batch, back to
back one by one on its one connection, then waits for their acks in order. It marks the
acked rows sent in one UPDATE: only the leading rows whose acks all arrived, so nothing
after a missing ack is marked. While NATS is down, events wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import nats
from nats.errors import NoRespondersError
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError
from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from cpd_common.events.catalogue import Event
from cpd_common.events.envelope import CloudEvent
from cpd_common.faults import crash_point

log = logging.getLogger("cpd.outbox")

STREAM = "CPD"
STREAM_SUBJECTS = ["cpd.>"]
NOTIFY_CHANNEL = "cpd_outbox"
KEEP_SENT_HOURS = 24
PUBLISH_TIMEOUT = 2.0

# The longest wait between tries while NATS or PostgreSQL is down. It bounds how long after the
# dependency returns the loops notice (DESIGN.md section 9: 2 s after PostgreSQL, 5 s after
# NATS, asserted by tests/reliability); two tries a second cost a waiting worker nothing.
RETRY_CAP = 0.5


class OutboxMixin:
    """``class OutboxEvent(OutboxMixin, Base): __tablename__ = "outbox"`` (the name is fixed:
    the relay's SQL and the NOTIFY trigger use it)."""

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    type: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            Index(
                "ix_outbox_pending",
                "seq",
                postgresql_where=text("sent_at IS NULL"),
            ),
        )


# Used by each service's first migration: wake the relay as soon as an outbox row commits.
# (Separate statements: the asyncpg driver prepares each one.)
CREATE_NOTIFY_TRIGGER = (
    f"""CREATE OR REPLACE FUNCTION cpd_outbox_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION cpd_outbox_notify()",
)
DROP_NOTIFY_TRIGGER = (
    "DROP TRIGGER IF EXISTS outbox_notify ON outbox",
    "DROP FUNCTION IF EXISTS cpd_outbox_notify()",
)


class _OutboxBase(DeclarativeBase):
    metadata = MetaData()


class OutboxRecord(OutboxMixin, _OutboxBase):
    """The library's own mapping of every service's ``outbox`` table, so that :func:`add`
    needs only the session. (Each service also declares the table on its own metadata, with
    :class:`OutboxMixin`, for its migrations and its queries.)"""

    __tablename__ = "outbox"


def _outbox_row(event: Event) -> tuple[CloudEvent, dict[str, Any]]:
    """The envelope of ``event`` and the outbox row that carries it."""
    envelope = CloudEvent(
        source=event.source,
        type=event.event_type,
        subject=event.subject_id(),
        trustid=str(event.trust_id),
        data=event.model_dump(mode="json"),
    )
    row = {
        "event_id": uuid.UUID(envelope.id),
        "type": event.event_type,
        "subject": event.nats_subject,
        "envelope": envelope.model_dump(mode="json"),
    }
    return envelope, row


def add(session: AsyncSession, event: Event) -> CloudEvent:
    """Adds ``event`` to the outbox in the caller's transaction (nothing is sent yet). Its
    class gives the type, the source and the NATS subject; its subject field and ``trust_id``
    give the envelope's ``subject`` and ``trustid``."""
    envelope, row = _outbox_row(event)
    session.add(OutboxRecord(**row))
    return envelope


async def add_many(session: AsyncSession, events: Sequence[Event]) -> None:
    """:func:`add` for many events at once (an import): one multi-row INSERT instead of an
    ORM object per event, in the caller's transaction and in the order given."""
    rows = [_outbox_row(event)[1] for event in events]
    if rows:
        await session.execute(insert(OutboxRecord), rows)


async def ensure_stream(js: Any, *, replicas: int = 1) -> None:
    """Creates (or brings up to date) the ``CPD`` stream: file storage, every write fsynced
    by the server's ``sync_interval: always``, 2-minute duplicate window for Nats-Msg-Id,
    atomic batch publishes allowed (the relay's batches)."""
    config = StreamConfig(
        name=STREAM,
        subjects=STREAM_SUBJECTS,
        storage=StorageType.FILE,
        duplicate_window=120.0,
        num_replicas=replicas,
        allow_atomic=True,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


# ``envelope::text``: published as PostgreSQL stores it, without decoding and re-encoding.
_CLAIM = text(
    "SELECT seq, event_id, subject, envelope::text, attempts FROM outbox WHERE sent_at IS NULL "
    "ORDER BY seq LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtext('cpd_outbox_relay'))")
_MARK = text("UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE seq = ANY(:seqs)")
_FAILED = text("UPDATE outbox SET attempts = attempts + 1 WHERE seq = :seq")
_PRUNE = text(f"DELETE FROM outbox WHERE sent_at < now() - interval '{KEEP_SENT_HOURS} hours'")


class AckTimeout(TimeoutError):
    """JetStream did not acknowledge a publish in time."""


async def _publish_in_order(
    js: Any, rows: Sequence[Any], publish_timeout: float
) -> tuple[int, BaseException | None]:
    """Publishes ``rows`` in order; returns how many leading rows were acked, and the error
    that stopped the rest (``None`` when all were).

    Two rows or more go as one JetStream atomic batch (:func:`_atomic_batch`) when they can;
    a batch the broker refuses (a row it already holds, a server without atomic publishes)
    is published row by row instead, at once. A first row that failed before (``attempts``
    > 0: a broker away or refusing it) goes alone and must be acked before the others are
    sent, so a message the broker keeps refusing does not make every retry send the rows
    behind it again."""
    if (
        len(rows) >= 2
        and not rows[0][4]
        and all(row[2].startswith(ATOMIC_SUBJECTS) for row in rows)
    ):
        try:
            if await _atomic_batch(js, rows, publish_timeout):
                return len(rows), None
        except Exception as exc:
            return 0, exc  # no answer: nothing is marked, the first row counts an attempt
    acked, error = 0, None
    if rows and rows[0][4]:
        acked, error = await _pipeline(js, rows[:1], publish_timeout)
    if error is None:
        more, error = await _pipeline(js, rows[acked:], publish_timeout)
        acked += more
    return acked, error


# Atomic batches (ADR-50, nats-server >= 2.12; the stream needs ``allow_atomic``) for the rows
# whose subjects the stream takes. With ``sync_interval: always`` the broker otherwise fsyncs
# once per message; nats-server >= 2.15 syncs an atomic batch once, at its commit.
ATOMIC_SUBJECTS = tuple(s.removesuffix(">") for s in STREAM_SUBJECTS)
ATOMIC_MAX = 1000  # the server's default ceiling of messages per batch (jetstream.limits.batch)


async def _atomic_batch(js: Any, rows: Sequence[Any], publish_timeout: float) -> bool:
    """Publishes ``rows`` (at most :data:`ATOMIC_MAX`) as one atomic batch: every message
    carries ``Nats-Batch-Id`` and its ``Nats-Batch-Sequence`` (and ``Nats-Msg-Id``, the
    event id), the last one ``Nats-Batch-Commit`` with a reply subject. The broker stores all
    of them, in order, or none, and answers the commit with one pub ack. Returns ``True``
    when the batch was stored, ``False`` when the broker refused it (an event id it already
    holds, within the duplicate window, refuses the whole batch; so does a stream without
    ``allow_atomic``): nothing of it was stored, and the caller publishes the rows one by
    one. Raises when no answer came (the broker away, or slower than ``publish_timeout``
    per started hundred messages): the batch may or may not be stored, and the rows stay
    pending (sent again, they are dropped as duplicates if it was)."""
    if len(rows) > ATOMIC_MAX:
        return False
    nc = js._nc
    batch = uuid.uuid4().hex

    def headers(number: int, event_id: Any) -> dict[str, str]:
        return {
            "Nats-Msg-Id": str(event_id),
            "Nats-Batch-Id": batch,
            "Nats-Batch-Sequence": str(number),
        }

    for number, (_seq, event_id, subject, envelope, _attempts) in enumerate(rows[:-1], start=1):
        await nc.publish(subject, envelope.encode(), headers=headers(number, event_id))
    _seq, event_id, subject, envelope, _attempts = rows[-1]
    try:
        reply = await nc.request(
            subject,
            envelope.encode(),
            timeout=publish_timeout * (1 + len(rows) // 100),
            headers=headers(len(rows), event_id) | {"Nats-Batch-Commit": "1"},
        )
    except NoRespondersError:
        return False
    except TimeoutError:
        raise AckTimeout(f"no ack of an atomic batch of {len(rows)} in time") from None
    try:
        ack = json.loads(reply.data)
    except ValueError:
        return False
    if not isinstance(ack, dict) or "error" in ack:
        log.info("relay: atomic batch of %d refused (%s); publishing one by one", len(rows), ack)
        return False
    return ack.get("count") == len(rows)


async def _pipeline(
    js: Any, rows: Sequence[Any], publish_timeout: float
) -> tuple[int, BaseException | None]:
    """Publishes ``rows`` back to back, then waits for their acks in order (as
    :func:`_publish_in_order` returns).

    The publishes go out in order on the client's one connection without waiting for each
    other's acks (JetStream stores a connection's messages in the order they arrive, so the
    stream keeps the outbox's order), and the acks come back in that order. The batch stops
    at the first publish the client refuses, the first error ack, or the first ack that takes
    longer than ``publish_timeout`` after the one before it; the acks still awaited then are
    dropped. A message stored whose ack was lost is published again on the next attempt and
    dropped by the broker (``Nats-Msg-Id``, within the stream's duplicate window)."""
    acks: list[asyncio.Future[Any]] = []
    error: BaseException | None = None
    try:
        for _seq, event_id, subject, envelope, _attempts in rows:
            acks.append(
                await js.publish_async(
                    subject,
                    envelope.encode(),
                    headers={"Nats-Msg-Id": str(event_id)},
                    wait_stall=publish_timeout,
                )
            )
    except Exception as exc:
        error = exc  # the rest of the batch is not sent
    acked = 0
    try:
        for ack in acks:
            try:
                await asyncio.wait_for(ack, publish_timeout)
            except TimeoutError:
                raise AckTimeout(f"no ack within {publish_timeout:g} s") from None
            acked += 1
    except Exception as exc:
        error = exc  # an earlier row than a refused publish: this one stops the batch
    finally:
        for ack in acks[acked:]:
            ack.cancel()
    return acked, error


RELAY_BATCH = 256  # rows claimed (and published as one atomic batch) at a time


async def publish_pending(
    sessionmaker: async_sessionmaker[AsyncSession],
    js: Any,
    *,
    limit: int = RELAY_BATCH,
    publish_timeout: float = PUBLISH_TIMEOUT,
) -> int:
    """Publishes up to ``limit`` pending events in order and marks them sent.

    One relay at a time per database (advisory lock), so order holds with several replicas.
    On a failed publish the batch stops there: the rows acked before it are marked sent, the
    failed one counts an attempt, those after it stay pending untouched, and the error is
    raised for the caller to back off.
    """
    async with sessionmaker() as session, session.begin():
        if not (await session.execute(_LOCK)).scalar():
            return 0
        rows = (await session.execute(_CLAIM, {"limit": limit})).all()
        acked, error = await _publish_in_order(js, rows, publish_timeout)
        if acked:
            crash_point("relay.after_publish")
            await session.execute(_MARK, {"seqs": [row[0] for row in rows[:acked]]})
        if error is not None:
            seq, event_id = rows[acked][0], rows[acked][1]
            await session.execute(_FAILED, {"seq": seq})
            log.warning(
                "relay: publish of event %s failed (%s: %s); batch stopped after %d sent,"
                " %d left pending",
                event_id,
                type(error).__name__,
                error,
                acked,
                len(rows) - acked,
            )
    if error is not None:
        raise error
    return acked


async def prune_sent(session: AsyncSession) -> None:
    """Forgets events sent more than ``KEEP_SENT_HOURS`` ago (the worker's housekeeping)."""
    await session.execute(_PRUNE)


class ConnectAborted(ConnectionError):
    """``stop`` was set before NATS answered."""


async def _abandon(attempt: asyncio.Future[Any]) -> None:
    """Cancels a connection attempt and waits until it has ended. nats-py retries inside
    ``connect`` and catches each failed try; a cancellation that lands just as a try fails
    can be lost in ``asyncio.wait_for`` (Python 3.11), and the attempt then retries on
    forever, so it is cancelled again until it ends. A connection made meanwhile is closed."""
    while not attempt.done():
        attempt.cancel()
        await asyncio.wait({attempt}, timeout=0.2)
    if not attempt.cancelled() and attempt.exception() is None:
        with contextlib.suppress(Exception):
            await attempt.result().close()


async def connect_nats(url: str, stop: asyncio.Event | None = None, **kw: Any) -> Any:
    """Connects to NATS, retrying until it answers; gives up with :class:`ConnectAborted` as
    soon as ``stop`` is set (the client itself retries forever, so shutting a worker down
    during an outage must not wait for it)."""
    delay = 0.1
    while True:
        attempt = asyncio.ensure_future(
            nats.connect(
                url,
                connect_timeout=2,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.25,
                allow_reconnect=True,
                **kw,
            )
        )
        try:
            if stop is None:
                return await attempt
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({attempt, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
            if attempt.done():
                return attempt.result()
            await _abandon(attempt)
            raise ConnectAborted(f"stopped before NATS at {url} answered")
        except ConnectAborted:
            raise
        except Exception as exc:
            if stop is not None and stop.is_set():
                raise ConnectAborted(f"stopped before NATS at {url} answered") from exc
            log.warning("NATS unreachable (%s); retrying in %.1fs", exc, delay)
            if stop is not None:
                await _sleep_or_stop(stop, delay)
            else:
                await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_CAP)


async def run_relay(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    nats_url: str,
    stop: asyncio.Event,
    *,
    poll_interval: float = 0.2,
    stream_replicas: int = 1,
    publish_timeout: float = PUBLISH_TIMEOUT,
) -> None:
    """The relay loop: wakes on NOTIFY (or every ``poll_interval``), publishes until the
    outbox is empty, backs off (up to ``RETRY_CAP``) while NATS or PostgreSQL is down. A publish not
    acked within ``publish_timeout`` seconds (of the ack before it) ends the batch; its row
    and those after it are retried."""
    wake = asyncio.Event()
    nc = None
    listener: Any = None
    delay = 0.1

    def on_notify(*_: Sequence[Any]) -> None:
        wake.set()

    try:
        while not stop.is_set():
            try:
                if nc is None or nc.is_closed:
                    nc = await connect_nats(nats_url, stop)
                    js = nc.jetstream()
                    await ensure_stream(js, replicas=stream_replicas)
                if listener is None:
                    listener = await engine.connect()
                    raw = await listener.get_raw_connection()
                    await raw.driver_connection.add_listener(NOTIFY_CHANNEL, on_notify)
                wake.clear()
                # Until a batch comes back short: the outbox was empty when it was claimed, and
                # a row committed since then has woken the relay (NOTIFY) again. (No second,
                # empty transaction after every event when they come one at a time.)
                while (
                    await publish_pending(
                        sessionmaker, js, limit=RELAY_BATCH, publish_timeout=publish_timeout
                    )
                    == RELAY_BATCH
                ):
                    pass
                delay = 0.1
            except Exception as exc:
                if stop.is_set():
                    break
                log.warning("relay: %s; retrying in %.1fs", exc, delay)
                if listener is not None:
                    with contextlib.suppress(Exception):
                        await listener.invalidate()
                    listener = None
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, RETRY_CAP)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(wake, stop), poll_interval)
    finally:
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await nc.close()


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)
