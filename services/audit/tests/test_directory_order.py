"""The directory projection keeps the latest state whatever order events arrive in: an older
``directory.person.upserted`` delivered after a newer one (redelivered after a failure, or
retried by the relay) changes nothing, and one older than the person's erasure neither brings
the person (and their name) back nor gives their tokens access again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from cpd_audit.models import Person, School, TokenRevocation
from cpd_audit.worker import subscriptions
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import handle_in_transaction
from cpd_demo.trust import NORTHFIELD, OAKRIDGE

SUB = subscriptions()[0]
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def deliver(kit: Any, payload: catalogue.Event, at: datetime) -> None:
    event = CloudEvent(
        source="/gateway",
        type=payload.event_type,
        time=at,
        trustid=str(OAKRIDGE),
        data=payload.model_dump(mode="json"),
    )
    model, handler = SUB.by_type[event.type]
    async with kit.stack.session("audit") as session, session.begin():
        assert await handle_in_transaction(
            session, SUB, event, handler, model.model_validate(event.data)
        )


def person(pid: uuid.UUID, **changes: Any) -> catalogue.PersonUpserted:
    values: dict[str, Any] = {
        "person_id": pid,
        "trust_id": OAKRIDGE,
        "school_ids": [NORTHFIELD],
        "name": "Order Test",
        "department": "Science",
        "roles": ["teacher"],
    }
    return catalogue.PersonUpserted(**(values | changes))


async def projected(kit: Any, pid: uuid.UUID) -> Any:
    async with kit.stack.session("audit") as session:
        return (await session.execute(select(Person).where(Person.id == pid))).scalar_one_or_none()


async def test_an_older_update_delivered_late_changes_nothing(kit: Any) -> None:
    pid = uuid.uuid4()
    await deliver(kit, person(pid, department="Science"), T0)
    await deliver(kit, person(pid, department="History"), T0 + timedelta(seconds=2))
    await deliver(kit, person(pid, department="Science"), T0 + timedelta(seconds=1))
    row = await projected(kit, pid)
    assert row.department == "History"
    # A later one still applies.
    await deliver(kit, person(pid, department="Maths"), T0 + timedelta(seconds=3))
    assert (await projected(kit, pid)).department == "Maths"


async def test_a_late_widening_does_not_undo_a_narrowing(kit: Any) -> None:
    pid = uuid.uuid4()
    await deliver(kit, person(pid, roles=["teacher", "school_leader"]), T0)
    await deliver(kit, person(pid, roles=["teacher"]), T0 + timedelta(seconds=2))
    await deliver(kit, person(pid, roles=["teacher", "school_leader"]), T0 + timedelta(seconds=1))
    assert (await projected(kit, pid)).roles == ["teacher"]
    async with kit.stack.session("audit") as session:
        roles = await session.scalar(
            select(TokenRevocation.roles).where(TokenRevocation.subject == f"person:{pid}")
        )
    assert roles == ["teacher"]


async def test_an_update_older_than_the_erasure_does_not_bring_the_person_back(kit: Any) -> None:
    pid = uuid.uuid4()
    await deliver(kit, person(pid, name="Erased Person"), T0)
    await deliver(
        kit, catalogue.PersonErased(person_id=pid, trust_id=OAKRIDGE), T0 + timedelta(seconds=2)
    )
    await deliver(kit, person(pid, name="Erased Person"), T0 + timedelta(seconds=1))
    assert await projected(kit, pid) is None
    async with kit.stack.session("audit") as session:
        grant = (
            await session.execute(
                select(TokenRevocation).where(TokenRevocation.subject == f"person:{pid}")
            )
        ).scalar_one()
    assert grant.active is False


async def test_an_older_school_update_delivered_late_changes_nothing(kit: Any) -> None:
    sid = uuid.uuid4()

    def school(name: str) -> catalogue.SchoolUpserted:
        return catalogue.SchoolUpserted(school_id=sid, trust_id=OAKRIDGE, name=name)

    await deliver(kit, school("New name"), T0 + timedelta(seconds=2))
    await deliver(kit, school("Old name"), T0 + timedelta(seconds=1))
    async with kit.stack.session("audit") as session:
        name = await session.scalar(select(School.name).where(School.id == sid))
    assert name == "New name"
