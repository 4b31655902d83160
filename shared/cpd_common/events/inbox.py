"""Idempotent event consumers: durable pull consumers, an inbox table, bounded redelivery,
dead letters.

Handling an event and recording its id in ``inbox`` happen in one transaction; the message
is acked after the commit. A redelivered event whose id is already in the inbox is acked and
skipped. A handler that keeps failing is retried with backoff; after ``max_deliver``
attempts the event is stored in ``dead_letters`` (with the error) and acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy import DateTime, Integer, String, Text, func, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import uuid7
from cpd_common.events.catalogue import Event
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.outbox import (
    RETRY_CAP,
    STREAM,
    ConnectAborted,
    _sleep_or_stop,
    connect_nats,
    ensure_stream,
)
from cpd_common.faults import crash_point

log = logging.getLogger("cpd.inbox")

Handler = Callable[[AsyncSession, CloudEvent, Any], Awaitable[None]]
# Of a fetched batch's events, the ids of those whose handler may have an effect (a superset
# is fine): read in a session of its own before the batch's transaction. The others are acked
# with neither their handler run nor an inbox row: there is no effect to make exactly once.
Relevant = Callable[[AsyncSession, Sequence[CloudEvent]], Awaitable[set[str]]]


class InboxMixin:
    """``class InboxEntry(InboxMixin, Base): __tablename__ = "inbox"``."""

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(120))
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeadLetterMixin:
    """``class DeadLetter(DeadLetterMixin, Base): __tablename__ = "dead_letters"``."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid7)
    consumer: Mapped[str] = mapped_column(String(100), index=True)
    event_id: Mapped[str | None] = mapped_column(String(100))
    event_type: Mapped[str | None] = mapped_column(String(120))
    trust_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    deliveries: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Subscription:
    """A durable consumer: ``handlers`` maps event classes (``PersonErased``) to handlers
    taking ``(session, envelope, event)``, the event parsed as that class. Types without a
    handler are acked and ignored. ``relevant`` (optional) says, for a whole fetched batch at
    once, which events can have an effect: a consumer that acts on few events (the webhook
    fan-out) skips the others without a transaction or an inbox row each."""

    durable: str
    filter_subject: str
    handlers: Mapping[type[Event], Handler] = field(default_factory=dict)
    relevant: Relevant | None = None
    max_deliver: int = 5
    backoff: tuple[float, ...] = (0.2, 1.0, 2.0, 5.0)
    by_type: Mapping[str, tuple[type[Event], Handler]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_type = {model.event_type: (model, handler) for model, handler in self.handlers.items()}
        object.__setattr__(self, "by_type", by_type)

    def delay_after(self, deliveries: int) -> float:
        return self.backoff[min(deliveries, len(self.backoff)) - 1] if self.backoff else 0.0


async def ensure_consumer(js: Any, sub: Subscription) -> None:
    """Creates the durable pull consumer (explicit ack). JetStream's own redelivery bound sits
    a little above ours so the last attempt always reaches our dead-letter step."""
    config = ConsumerConfig(
        durable_name=sub.durable,
        filter_subject=sub.filter_subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=30.0,
        max_deliver=sub.max_deliver + 3,
        max_ack_pending=1000,
    )
    await js.add_consumer(STREAM, config)


_INBOX_INSERT = text(
    "INSERT INTO inbox (event_id, consumer, event_type) VALUES (:event_id, :consumer, :type) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


async def _dead_letter(
    sessionmaker: async_sessionmaker[AsyncSession],
    sub: Subscription,
    msg: Any,
    error: str,
    event: CloudEvent | None,
    deliveries: int,
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO dead_letters (id, consumer, event_id, event_type, trust_id, subject,"
                " body, error, deliveries) VALUES (:id, :consumer, :event_id, :event_type,"
                " :trust_id, :subject, :body, :error, :deliveries)"
            ),
            {
                "id": uuid7(),
                "consumer": sub.durable,
                "event_id": event.id if event else None,
                "event_type": event.type if event else None,
                "trust_id": _uuid_or_none(event.trustid if event else None),
                "subject": msg.subject,
                "body": msg.data.decode("utf-8", errors="replace"),
                "error": error[:4000],
                "deliveries": deliveries,
            },
        )
    log.error("dead letter on %s: %s", sub.durable, error.splitlines()[0] if error else "")


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def parse(sub: Subscription, raw: bytes) -> tuple[CloudEvent, Handler | None, Any]:
    """Envelope and payload of a message (raises ValueError/ValidationError when malformed)."""
    event = CloudEvent.model_validate_json(raw)
    registered = sub.by_type.get(event.type)
    if registered is None:
        return event, None, None
    model, handler = registered
    return event, handler, model.model_validate(event.data)


async def handle_in_transaction(
    session: AsyncSession, sub: Subscription, event: CloudEvent, handler: Handler, payload: Any
) -> bool:
    """Records the event in the inbox and runs the handler, in the caller's transaction.
    Returns ``False`` (handler not run) when this consumer already handled the event."""
    inserted = await session.execute(
        _INBOX_INSERT, {"event_id": event.id, "consumer": sub.durable, "type": event.type}
    )
    if inserted.first() is None:
        return False
    await handler(session, event, payload)
    return True


async def handle_message(
    sessionmaker: async_sessionmaker[AsyncSession], sub: Subscription, msg: Any
) -> str:
    """Handles one message; returns ``handled``, ``duplicate``, ``ignored``, ``retry`` or
    ``dead``. Always either acks, naks with a delay, or (dead letter) acks after storing."""
    deliveries = msg.metadata.num_delivered if msg.metadata else 1
    try:
        event, handler, payload = parse(sub, msg.data)
    except (ValueError, ValidationError) as exc:
        event = None
        with contextlib.suppress(ValueError, ValidationError):
            event = CloudEvent.model_validate_json(msg.data)
        await _dead_letter(sessionmaker, sub, msg, f"malformed event: {exc}", event, deliveries)
        await msg.term()
        return "dead"
    if handler is None or event is None:
        await msg.ack()
        return "ignored"
    try:
        async with sessionmaker() as session, session.begin():
            handled = await handle_in_transaction(session, sub, event, handler, payload)
    except Exception:
        error = traceback.format_exc()
        if deliveries >= sub.max_deliver:
            await _dead_letter(sessionmaker, sub, msg, error, event, deliveries)
            await msg.ack()
            return "dead"
        log.warning("handler failed on %s (delivery %d): %s", sub.durable, deliveries, error)
        await msg.nak(delay=sub.delay_after(deliveries))
        return "retry"
    crash_point("inbox.after_commit")
    await msg.ack()
    return "handled" if handled else "duplicate"


async def handle_batch(
    sessionmaker: async_sessionmaker[AsyncSession], sub: Subscription, msgs: Sequence[Any]
) -> None:
    """Handles a fetched batch in one transaction (one durable commit for many events), each
    event with its inbox row, then acks them all. If anything in the batch fails, the
    transaction is rolled back and every message is handled on its own, so a failing event
    is retried or dead-lettered alone and the others go through. Events the subscription's
    ``relevant`` rules out are acked first, untouched."""
    try:
        ready = [(msg, *parse(sub, msg.data)) for msg in msgs]
    except (ValueError, ValidationError):
        ready = []  # a malformed event among them: handle_message dead-letters it alone
    if ready and sub.relevant is not None:
        skipped = await _irrelevant(sessionmaker, sub, ready)
        if skipped:
            for msg in skipped:
                await msg.ack()
            gone = {id(msg) for msg in skipped}
            ready = [entry for entry in ready if id(entry[0]) not in gone]
            msgs = [entry[0] for entry in ready]
    if len(ready) < 2:
        for msg in msgs:
            await handle_message(sessionmaker, sub, msg)
        return
    try:
        async with sessionmaker() as session, session.begin():
            for _, event, handler, payload in ready:
                if handler is not None:
                    await handle_in_transaction(session, sub, event, handler, payload)
    except Exception:
        log.info("batch on %s failed; handling its %d events one by one", sub.durable, len(ready))
        for msg, *_ in ready:
            await handle_message(sessionmaker, sub, msg)
        return
    crash_point("inbox.after_commit")
    for msg, *_ in ready:
        await msg.ack()


async def _irrelevant(
    sessionmaker: async_sessionmaker[AsyncSession], sub: Subscription, ready: Sequence[Any]
) -> list[Any]:
    """The messages of ``ready`` (``(msg, envelope, handler, payload)`` each) whose events the
    subscription's ``relevant`` rules out; none when it fails (every event is then handled as
    usual)."""
    assert sub.relevant is not None
    events = [event for _, event, handler, _ in ready if handler is not None]
    if not events:
        return []
    try:
        async with sessionmaker() as session:
            wanted = await sub.relevant(session, events)
    except Exception:
        log.warning("relevance check on %s failed; handling every event", sub.durable)
        return []
    return [m for m, event, handler, _ in ready if handler is not None and event.id not in wanted]


async def _pull(js: Any, sub: Subscription) -> Any:
    return await js.pull_subscribe_bind(durable=sub.durable, stream=STREAM)


async def drain(
    sessionmaker: async_sessionmaker[AsyncSession], js: Any, subs: Sequence[Subscription]
) -> int:
    """Handles every message currently pending for ``subs`` (for tests and tools); returns
    how many messages were processed. Messages waiting for a delayed redelivery are left."""
    total = 0
    loop = asyncio.get_running_loop()
    for sub in subs:
        psub = await _pull(js, sub)
        # Messages the server says are pending are fetched even when a loaded machine is slow
        # to hand them over (a fetch that times out is tried again), for at most this long.
        patience = loop.time() + 15.0
        try:
            while True:
                info = await js.consumer_info(STREAM, sub.durable)
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    break
                # Only naked messages waiting for their redelivery delay: a short look.
                wait = 0.5 if info.num_pending else 0.1
                try:
                    msgs = await psub.fetch(batch=100, timeout=wait)
                except TimeoutError:
                    if info.num_pending and loop.time() < patience:
                        continue
                    break
                await handle_batch(sessionmaker, sub, msgs)
                total += len(msgs)
        finally:
            await psub.unsubscribe()
    return total


async def run_consumers(
    sessionmaker: async_sessionmaker[AsyncSession],
    nats_url: str,
    subs: Sequence[Subscription],
    stop: asyncio.Event,
    *,
    stream_replicas: int = 1,
) -> None:
    """The consumer loop of a worker: one task per subscription, reconnecting with backoff."""
    try:
        nc = await connect_nats(nats_url, stop)
    except ConnectAborted:
        return  # stopped before NATS ever answered
    try:
        js = nc.jetstream()
        delay = 0.1
        while not stop.is_set():
            try:
                await ensure_stream(js, replicas=stream_replicas)
                for sub in subs:
                    await ensure_consumer(js, sub)
                break
            except Exception as exc:
                log.warning("consumer setup: %s; retrying in %.1fs", exc, delay)
                await _sleep_or_stop(stop, delay)
                delay = min(delay * 2, RETRY_CAP)
        tasks = [asyncio.create_task(_consume(sessionmaker, js, sub, stop)) for sub in subs]
        await stop.wait()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


async def _consume(
    sessionmaker: async_sessionmaker[AsyncSession], js: Any, sub: Subscription, stop: asyncio.Event
) -> None:
    psub = None
    delay = 0.1
    while not stop.is_set():
        try:
            if psub is None:
                psub = await _pull(js, sub)
            try:
                msgs = await psub.fetch(batch=50, timeout=1.0)
            except TimeoutError:
                continue
            await handle_batch(sessionmaker, sub, msgs)
            delay = 0.1
        except asyncio.CancelledError:
            raise
        except NotFoundError:
            psub = None
            with contextlib.suppress(Exception):
                await ensure_consumer(js, sub)
        except Exception as exc:
            log.warning("consumer %s: %s; retrying in %.1fs", sub.durable, exc, delay)
            await _sleep_or_stop(stop, delay)
            delay = min(delay * 2, RETRY_CAP)


async def replay_dead_letter(session: AsyncSession, sub: Subscription, body: str) -> bool:
    """Runs a dead-lettered event's handler again in the caller's transaction (admin replay).
    Returns ``False`` when it had been handled meanwhile."""
    event, handler, payload = parse(sub, body.encode())
    if handler is None:
        return False
    return await handle_in_transaction(session, sub, event, handler, payload)
