"""The tables and building blocks of the messaging tests: an outbox, an inbox, dead letters
and a schools table on their own metadata; a school event, its handler and subscription."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common import events
from cpd_common.db import new_metadata
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import DeadLetterMixin, InboxMixin, Subscription
from cpd_common.events.outbox import STREAM, OutboxMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class Outbox(OutboxMixin, Base):
    __tablename__ = "outbox"


class Inbox(InboxMixin, Base):
    __tablename__ = "inbox"


class Dead(DeadLetterMixin, Base):
    __tablename__ = "dead_letters"


class School(Base):
    __tablename__ = "schools"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


TRUST = uuid.UUID("00000000-0000-7000-8000-000000000001")


def school_event(session: Any, name: str) -> CloudEvent:
    school_id = uuid.uuid4()
    return events.add(
        session, catalogue.SchoolUpserted(school_id=school_id, trust_id=TRUST, name=name)
    )


async def upsert_school(session: Any, event: CloudEvent, p: catalogue.SchoolUpserted) -> None:
    await session.execute(
        text("INSERT INTO schools (id, name) VALUES (:id, :name)"),
        {"id": p.school_id, "name": p.name},
    )


def subscription(**kw: Any) -> Subscription:
    return Subscription(
        durable=kw.pop("durable", "test-directory"),
        filter_subject="cpd.directory.>",
        handlers=kw.pop("handlers", {catalogue.SchoolUpserted: upsert_school}),
        **kw,
    )


async def stream_messages(js: Any) -> list[dict[str, Any]]:
    info = await js.stream_info(STREAM)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(STREAM, seq)
        out.append({"id": msg.headers.get("Nats-Msg-Id"), "data": json.loads(msg.data)})
    return out


async def at_least(probe: Any, n: int) -> bool:
    return bool(await probe() >= n)
