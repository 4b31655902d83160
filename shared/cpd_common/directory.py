"""The staff-directory projection every domain service keeps from ``directory.*`` events.

Each service owns its own ``people`` and ``schools`` tables (``class Person(PersonMixin, Base)``),
built only from events: no service reads the gateway's database. The same events keep the
service's ``token_revocations`` table (:mod:`cpd_common.revocation`) current, so a person's
tokens stop working here as soon as the directory takes their access away.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, String, delete, func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common import events, revocation
from cpd_common.auth import Principal
from cpd_common.db import known_ids
from cpd_common.errors import ProblemError
from cpd_common.events.catalogue import (
    ClientRevoked,
    Event,
    PersonErased,
    PersonUpserted,
    SchoolUpserted,
)
from cpd_common.events.envelope import CloudEvent
from cpd_common.events.inbox import Handler

# (session, the erasure event's payload, the person's name as the projection knew it)
NameScrubber = Callable[[AsyncSession, PersonErased, "str | None"], Awaitable[None]]


async def check_schools(
    session: AsyncSession,
    school: Any,
    school_ids: list[uuid.UUID],
    *,
    principal: Principal,
    invalid: type[ProblemError],
    what: str,
) -> None:
    """The schools something new is for (``what``: "A lesson study") are schools of the
    caller's trust in ``school`` (the service's projection), and one of them is the caller's
    own unless they are a trust admin; otherwise ``invalid`` (a 422) says which are not."""
    known = await known_ids(session, school.id, school_ids, school.trust_id == principal.trust_id)
    unknown = [s for s in school_ids if s not in known]
    if unknown:
        raise invalid(
            "Every school must be a school of your trust.",
            errors=[{"loc": "body.school_ids", "msg": f"unknown school {s}"} for s in unknown],
        )
    if not principal.is_trust_admin and principal.school_ids.isdisjoint(school_ids):
        raise invalid(
            f"{what} must include one of your own schools.",
            errors=[{"loc": "body.school_ids", "msg": "none of these schools is yours"}],
        )


class PersonMixin:
    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    school_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    name: Mapped[str] = mapped_column(String(200))
    staff_group: Mapped[str | None] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(100))
    career_stage: Mapped[str | None] = mapped_column(String(40))
    fte: Mapped[float | None] = mapped_column(Float)
    start_date: Mapped[date | None] = mapped_column(Date)
    line_manager_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # The time of the directory event the row was last built from: an older event that
    # arrives later (redelivered after a failure, or retried by the relay) changes nothing.
    source_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SchoolMixin:
    __tablename__ = "schools"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    trust_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    source_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _stale(held: datetime | None, time: datetime) -> bool:
    return held is not None and time < held


def _newer_wins(model: type[Any], values: dict[str, Any]) -> Any:
    """Insert the row, or update it unless it was built from a later event than this one."""
    stmt = insert(model).values(values)
    return stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={k: stmt.excluded[k] for k in values if k != "id"} | {"updated_at": func.now()},
        where=model.source_time.is_(None) | (model.source_time <= stmt.excluded.source_time),
    )


def directory_handlers(
    person_model: type[Any],
    school_model: type[Any],
    *,
    revocation_model: type[Any],
    before_erased: Handler | None = None,
    on_erased: Handler | None = None,
    scrub_name: NameScrubber | None = None,
    erasure_completed: type[Event] | None = None,
) -> dict[type[Event], Handler]:
    """Handlers for the directory events, upserting into the service's own projection tables.

    Erasure first revokes the person's tokens and takes their subject lock (so no write made
    with an old token can land after the sweep), then runs ``scrub_name`` with the person's
    name from the projection (the event does not carry it) so the service can take the name
    out of its free text (:func:`cpd_common.erasure.scrub_name`), then ``before_erased``
    (which still sees the projection row), deletes the row, and runs ``on_erased`` so the
    service can remove or anonymise what else it holds about them, all in the same
    transaction, which finally adds ``erasure_completed`` (the service's confirmation event,
    e.g. ``AuditErasureCompleted``) to the outbox: the gateway's erasure report shows it.
    """

    async def person_upserted(session: AsyncSession, event: CloudEvent, p: PersonUpserted) -> None:
        subject = revocation.subject_of_person(p.person_id)
        # One round trip: the projection row (if any) and the subject's revocation row.
        held = (
            select(
                person_model.roles,
                person_model.school_ids,
                person_model.active,
                person_model.source_time,
                literal(True).label("present"),
            )
            .where(person_model.id == p.person_id)
            .subquery()
        )
        grant = (
            select(revocation_model.deactivated_at, literal(True).label("tracked"))
            .where(revocation_model.subject == subject)
            .subquery()
        )
        one = select(literal(1).label("one")).subquery()
        state = (
            await session.execute(
                select(held, grant.c.deactivated_at, grant.c.tracked).select_from(
                    one.outerjoin(held, true()).outerjoin(grant, true())
                )
            )
        ).one()
        previous = state if state.present else None
        if previous is not None and _stale(previous.source_time, event.time):
            return
        if _stale(state.deactivated_at, event.time):
            # Older than the person's deactivation or erasure: it must not bring back access,
            # nor (after an erasure) the person's name.
            return
        narrowed, deactivated = revocation.narrowing(
            old_roles=previous.roles if previous else None,
            old_school_ids=previous.school_ids if previous else None,
            old_active=previous.active if previous else None,
            roles=list(p.roles),
            school_ids=list(p.school_ids),
            active=p.active,
        )
        if narrowed:
            await revocation.record(
                session,
                revocation_model,
                subject=subject,
                trust_id=p.trust_id,
                active=p.active,
                roles=list(p.roles),
                school_ids=list(p.school_ids),
                at=event.time,
                narrowed=True,
                deactivated=deactivated,
            )
        elif state.tracked:
            await revocation.update_if_tracked(
                session,
                revocation_model,
                subject=subject,
                active=p.active,
                roles=list(p.roles),
                school_ids=list(p.school_ids),
            )
        values = {
            "id": p.person_id,
            "trust_id": p.trust_id,
            "school_ids": list(p.school_ids),
            "name": p.name,
            "staff_group": p.staff_group,
            "department": p.department,
            "career_stage": p.career_stage,
            "fte": p.fte,
            "start_date": p.start_date,
            "line_manager_id": p.line_manager_id,
            "roles": list(p.roles),
            "active": p.active,
            "source_time": event.time,
        }
        await session.execute(_newer_wins(person_model, values))

    async def school_upserted(session: AsyncSession, event: CloudEvent, s: SchoolUpserted) -> None:
        values = {
            "id": s.school_id,
            "trust_id": s.trust_id,
            "name": s.name,
            "phase": s.phase,
            "source_time": event.time,
        }
        await session.execute(_newer_wins(school_model, values))

    async def person_erased(session: AsyncSession, event: CloudEvent, p: PersonErased) -> None:
        await revocation.record(
            session,
            revocation_model,
            subject=revocation.subject_of_person(p.person_id),
            trust_id=p.trust_id,
            active=False,
            roles=[],
            school_ids=[],
            at=event.time,
            narrowed=True,
            deactivated=True,
        )
        if scrub_name is not None:
            name = await session.scalar(
                select(person_model.name).where(
                    person_model.id == p.person_id, person_model.trust_id == p.trust_id
                )
            )
            await scrub_name(session, p, name)
        if before_erased is not None:
            await before_erased(session, event, p)
        await session.execute(delete(person_model).where(person_model.id == p.person_id))
        if on_erased is not None:
            await on_erased(session, event, p)
        if erasure_completed is not None:
            events.add(
                session,
                erasure_completed.model_validate(
                    {"person_id": p.person_id, "trust_id": p.trust_id}
                ),
            )

    async def client_revoked(session: AsyncSession, event: CloudEvent, c: ClientRevoked) -> None:
        await revocation.record(
            session,
            revocation_model,
            subject=revocation.subject_of_client(c.client_id),
            trust_id=c.trust_id,
            active=False,
            roles=None,
            school_ids=None,
            at=event.time,
            narrowed=True,
            deactivated=True,
        )

    return {
        PersonUpserted: person_upserted,
        SchoolUpserted: school_upserted,
        PersonErased: person_erased,
        ClientRevoked: client_revoked,
    }
