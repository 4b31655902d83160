"""Many people at once (the CSV import, :mod:`cpd_gateway.imports`): each planned person
checked under the rules of :func:`cpd_gateway.directory.people.create_person` and
``update_person``, then created and changed in one go with one ``directory.person.upserted``
each, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import String, any_, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.errors import Unprocessable
from cpd_gateway.directory import errors
from cpd_gateway.directory import people as people_service
from cpd_gateway.directory.trusts import require_people_manager
from cpd_gateway.models import Account, Person, School


def _uuids(values: Iterable[uuid.UUID]) -> Any:
    """One array parameter however many values (an IN list of thousands would hit the
    driver's limit on parameters)."""
    return bindparam(None, list(values), type_=ARRAY(Uuid))


def _texts(values: Iterable[str]) -> Any:
    return bindparam(None, list(values), type_=ARRAY(String))


@dataclass
class Planned:
    """One person an import creates (``person`` None, ``person_id`` chosen beforehand so that
    rows can name each other as line manager) or changes (``fields``: only what changes)."""

    key: int
    person_id: uuid.UUID
    fields: dict[str, Any]
    person: Person | None = None


async def planned_problems(
    session: AsyncSession, trust_id: uuid.UUID, planned: Sequence[Planned]
) -> list[tuple[int, str, str]]:
    """The directory's rules for many people at once, a few queries in all: schools of the
    trust, line managers in the trust (or in the batch), emails unused by anyone else on the
    platform, user names and external ids unused by anyone else in the trust, and none of
    them twice in the batch. ``(key, field, reason)`` for each problem."""
    problems: list[tuple[int, str, str]] = []
    schools = {sid for p in planned for sid in p.fields.get("school_ids") or []}
    known_schools = set(
        (
            await session.scalars(
                select(School.id).where(
                    School.trust_id == trust_id, School.id == any_(_uuids(schools))
                )
            )
        ).all()
        if schools
        else []
    )
    batch_ids = {p.person_id for p in planned}
    managers = {p.fields["line_manager_id"] for p in planned if p.fields.get("line_manager_id")}
    known_managers = (
        set(
            (
                await session.scalars(
                    select(Person.id).where(
                        Person.trust_id == trust_id, Person.id == any_(_uuids(managers))
                    )
                )
            ).all()
            if managers
            else []
        )
        | batch_ids
    )
    emails = {p.fields["email"].lower(): p for p in planned if p.fields.get("email")}
    taken_emails: dict[str, set[uuid.UUID]] = {}
    if emails:
        rows = await session.execute(
            # Emails are stored lower-cased: compared as they are, the unique index serves.
            select(Person.email, Person.id).where(Person.email == any_(_texts(emails)))
        )
        for email, pid in rows:
            taken_emails.setdefault(str(email), set()).add(pid)
        rows = await session.execute(
            select(Account.email, Account.person_id).where(Account.email == any_(_texts(emails)))
        )
        for email, pid in rows:
            taken_emails.setdefault(str(email), set()).add(pid)
    taken: dict[str, dict[str, set[uuid.UUID]]] = {"user_name": {}, "external_id": {}}
    for field, column, wanted in (
        (
            "user_name",
            func.lower(Person.user_name),
            {p.fields["user_name"].lower() for p in planned if p.fields.get("user_name")},
        ),
        (
            "external_id",
            Person.external_id,
            {p.fields["external_id"] for p in planned if p.fields.get("external_id")},
        ),
    ):
        if wanted:
            rows = await session.execute(
                select(column, Person.id).where(
                    Person.trust_id == trust_id, column == any_(_texts(wanted))
                )
            )
            for value, pid in rows:
                taken[field].setdefault(str(value), set()).add(pid)
    seen: dict[tuple[str, str], int] = {}
    for p in planned:
        for sid in p.fields.get("school_ids") or []:
            if sid not in known_schools:
                problems.append((p.key, "school_ids", f"no school {sid} in this trust"))
                break
        manager = p.fields.get("line_manager_id")
        if manager is not None and (manager not in known_managers or manager == p.person_id):
            problems.append((p.key, "line_manager_id", "no such person in this trust"))
        for field, value in (
            ("email", (p.fields.get("email") or "").lower()),
            ("user_name", (p.fields.get("user_name") or "").lower()),
            ("external_id", p.fields.get("external_id") or ""),
        ):
            if not value:
                continue
            holders = (taken_emails if field == "email" else taken[field]).get(value, set())
            if holders - {p.person_id}:
                reason = "cannot be used" if field == "email" else "already in use"
                problems.append((p.key, field, reason))
            elif (field, value) in seen:
                problems.append((p.key, field, f"also on row {seen[(field, value)]}"))
            else:
                seen[(field, value)] = p.key
    return problems


async def provision_people(
    session: AsyncSession, planned: Sequence[Planned], *, principal: Principal
) -> None:
    """Creates and changes many people in one go under the rules of :func:`create_person`
    and :func:`update_person` (checked by :func:`planned_problems`), one
    ``directory.person.upserted`` per person, in the caller's transaction."""
    require_people_manager(principal)
    trust_id = principal.trust_id
    problems = await planned_problems(session, trust_id, planned)
    if problems:
        raise Unprocessable(
            "Some people are not valid.",
            errors=[{"loc": f"{key}.{field}", "msg": msg} for key, field, msg in problems],
        )
    changed = [p for p in planned if p.person is not None]
    accounts = (
        {
            a.person_id: a
            for a in (
                await session.scalars(
                    select(Account).where(
                        Account.person_id == any_(_uuids(p.person_id for p in changed))
                    )
                )
            ).all()
        }
        if changed
        else {}
    )
    people: list[Any] = []
    new_rows: list[dict[str, Any]] = []
    now = utcnow()
    async with people_service.one_person_each(session):
        for p in planned:
            fields = dict(p.fields)
            if fields.get("email"):
                fields["email"] = fields["email"].lower()
            if p.person is None:
                # New people go in as rows of one multi-row INSERT (thousands at a time).
                row: dict[str, Any] = dict.fromkeys(NEW_PERSON_COLUMNS)
                row |= {"school_ids": [], "roles": ["staff"], "active": True}
                row |= fields | {
                    "id": p.person_id,
                    "trust_id": trust_id,
                    "created_at": now,
                    "updated_at": now,
                }
                new_rows.append(row)
                people.append(SimpleNamespace(**row))
            else:
                person = p.person
                if person.erased_at is not None:
                    raise errors.PersonErased("An erased person cannot change.")
                before = (list(person.roles or []), list(person.school_ids or []), person.active)
                for key, value in fields.items():
                    setattr(person, key, value)
                person.updated_at = now
                await people_service.record_grants(session, person, *before)
                account = accounts.get(person.id)
                if account is not None and person.email and account.email != person.email:
                    account.email = person.email
                people.append(person)
        if new_rows:
            await session.execute(insert(Person), new_rows)
        await session.flush()
    await events.add_many(session, [people_service.upserted(person) for person in people])


NEW_PERSON_COLUMNS = (
    "name",
    "email",
    "school_ids",
    "staff_group",
    "department",
    "career_stage",
    "fte",
    "start_date",
    "line_manager_id",
    "roles",
    "active",
    "external_id",
    "user_name",
    "given_name",
    "family_name",
    "employee_number",
)
