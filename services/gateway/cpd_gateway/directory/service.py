"""The directory's rules: who may see and change trusts, schools, people, groups and API
clients, and the events each change publishes."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import Select, any_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, revocation
from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, utcnow
from cpd_common.erasure import FreeText, scrub_name
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.events import catalogue
from cpd_gateway.directory import errors, schemas
from cpd_gateway.identity import passwords
from cpd_gateway.identity import service as identity
from cpd_gateway.models import (
    Account,
    ApiClient,
    Group,
    Person,
    School,
    TokenRevocation,
    Trust,
)

ERASED_NAME = "Erased person"
SERVICES_NOTIFIED = ["audit", "lessonstudy", "evaluation"]


def _require_admin(principal: Principal) -> None:
    if not principal.is_trust_admin:
        raise Forbidden("Only a trust admin can change the directory.")


# ---- trusts ---------------------------------------------------------------------------------


async def get_trust(session: AsyncSession, trust_id: uuid.UUID, *, principal: Principal) -> Trust:
    trust = await session.get(Trust, trust_id)
    if trust is None or trust.id != principal.trust_id or principal.client_id:
        raise errors.TrustNotFound()
    return trust


async def update_trust(
    session: AsyncSession, trust: Trust, data: schemas.TrustUpdate, *, principal: Principal
) -> Trust:
    _require_admin(principal)
    trust.name = data.name
    await session.flush()
    return trust


# ---- schools --------------------------------------------------------------------------------


def schools_query(*, principal: Principal) -> Select[Any]:
    return select(School).where(School.trust_id == principal.trust_id)


async def get_school(
    session: AsyncSession, school_id: uuid.UUID, *, principal: Principal
) -> School:
    school = await session.get(School, school_id)
    if school is None or school.trust_id != principal.trust_id:
        raise errors.SchoolNotFound()
    return school


def _school_event(session: AsyncSession, school: School) -> None:
    events.add(
        session,
        catalogue.SchoolUpserted(
            school_id=school.id, trust_id=school.trust_id, name=school.name, phase=school.phase
        ),
    )


async def create_school(
    session: AsyncSession, data: schemas.SchoolCreate, *, principal: Principal
) -> School:
    _require_admin(principal)
    school = School(trust_id=principal.trust_id, **data.model_dump())
    session.add(school)
    await session.flush()
    _school_event(session, school)
    return school


async def update_school(
    session: AsyncSession, school: School, data: schemas.SchoolUpdate, *, principal: Principal
) -> School:
    _require_admin(principal)
    for key, value in data.model_dump(exclude_unset=True).items():
        if key == "name" and value is None:
            continue
        setattr(school, key, value)
    school.updated_at = utcnow()
    await session.flush()
    _school_event(session, school)
    return school


# ---- people ---------------------------------------------------------------------------------


def people_query(
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    staff_group: str | None = None,
    active: bool | None = None,
) -> Select[Any]:
    stmt = select(Person).where(Person.trust_id == principal.trust_id)
    if not principal.is_trust_admin:
        if "school_leader" in principal.roles and principal.school_ids:
            stmt = stmt.where(Person.school_ids.overlap(list(principal.school_ids)))
        else:
            stmt = stmt.where(Person.id == principal.person_id)
    if school_id is not None:
        stmt = stmt.where(any_(Person.school_ids) == school_id)
    if staff_group is not None:
        stmt = stmt.where(Person.staff_group == staff_group)
    if active is not None:
        stmt = stmt.where(Person.active.is_(active))
    return stmt


async def get_person(
    session: AsyncSession, person_id: uuid.UUID, *, principal: Principal
) -> Person:
    person = await session.scalar(people_query(principal=principal).where(Person.id == person_id))
    if person is None:
        raise errors.PersonNotFound()
    return person


async def has_login(session: AsyncSession, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(Account.person_id == person_id))))


async def logins_of(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(
        (await session.scalars(select(Account.person_id).where(Account.person_id.in_(ids)))).all()
    )


def person_event(session: AsyncSession, person: Person) -> None:
    events.add(
        session,
        catalogue.PersonUpserted(
            person_id=person.id,
            trust_id=person.trust_id,
            school_ids=list(person.school_ids or []),
            name=person.name,
            staff_group=person.staff_group,
            department=person.department,
            career_stage=person.career_stage,
            fte=person.fte,
            start_date=person.start_date,
            line_manager_id=person.line_manager_id,
            roles=list(person.roles or []),
            active=person.active,
        ),
    )


async def _check_references(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID,
    school_ids: list[uuid.UUID] | None,
    line_manager_id: uuid.UUID | None,
    person_id: uuid.UUID | None = None,
) -> None:
    problems = []
    if school_ids:
        known = set(
            (
                await session.scalars(
                    select(School.id).where(School.trust_id == trust_id, School.id.in_(school_ids))
                )
            ).all()
        )
        for i, sid in enumerate(school_ids):
            if sid not in known:
                problems.append(
                    {"loc": f"body.school_ids.{i}", "msg": f"no school {sid} in this trust"}
                )
    if line_manager_id is not None:
        found = await session.scalar(
            select(Person.id).where(Person.trust_id == trust_id, Person.id == line_manager_id)
        )
        if found is None or line_manager_id == person_id:
            problems.append({"loc": "body.line_manager_id", "msg": "no such person in this trust"})
    if problems:
        raise Unprocessable("Some references are not valid.", errors=problems)


async def _check_email(
    session: AsyncSession, email: str | None, *, person_id: uuid.UUID | None = None
) -> None:
    """Emails are login names, so they are unique across the platform (people and accounts)."""
    if not email:
        return
    email = email.lower()
    other_person = select(Person.id).where(func.lower(Person.email) == email)
    other_account = select(Account.person_id).where(Account.email == email)
    if person_id is not None:
        other_person = other_person.where(Person.id != person_id)
        other_account = other_account.where(Account.person_id != person_id)
    if await session.scalar(select(exists(other_person) | exists(other_account))):
        raise _email_taken()


async def create_person(
    session: AsyncSession, data: schemas.PersonCreate, *, principal: Principal
) -> Person:
    _require_admin(principal)
    if data.password and not data.email:
        raise Unprocessable(
            "A login needs an email.",
            errors=[{"loc": "body.email", "msg": "required with password"}],
        )
    await _check_references(
        session,
        trust_id=principal.trust_id,
        school_ids=data.school_ids,
        line_manager_id=data.line_manager_id,
    )
    email = data.email.lower() if data.email else None
    await _check_email(session, email)
    person = Person(
        trust_id=principal.trust_id,
        **data.model_dump(exclude={"password", "email"}),
        email=email,
    )
    # The unique constraints on emails (people and accounts) hold the rule under concurrency.
    async with one_of_a_kind(session, _email_taken()):
        session.add(person)
        await session.flush()
        if data.password and email:
            await identity.set_password(session, person, email=email, password=data.password)
            await session.flush()
    person_event(session, person)
    return person


def _email_taken() -> errors.EmailTaken:
    return errors.EmailTaken(
        "Another person already uses this email.",
        errors=[{"loc": "body.email", "msg": "already in use"}],
    )


async def update_person(
    session: AsyncSession, person: Person, data: schemas.PersonUpdate, *, principal: Principal
) -> Person:
    _require_admin(principal)
    if person.erased_at is not None:
        raise errors.PersonErased("This person was erased; nothing about them can change.")
    changes = data.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    await _check_references(
        session,
        trust_id=person.trust_id,
        school_ids=changes.get("school_ids"),
        line_manager_id=changes.get("line_manager_id"),
        person_id=person.id,
    )
    if changes.get("email"):
        changes["email"] = changes["email"].lower()
        await _check_email(session, changes["email"], person_id=person.id)
    before = (list(person.roles or []), list(person.school_ids or []), person.active)
    for key, value in changes.items():
        if key in {"name", "school_ids", "roles", "active"} and value is None:
            continue
        setattr(person, key, value)
    person.updated_at = utcnow()
    await _record_grants(session, person, *before)
    account = await session.get(Account, person.id)
    if password:
        if not person.email:
            raise Unprocessable(
                "A login needs an email.",
                errors=[{"loc": "body.email", "msg": "required with password"}],
            )
        await identity.set_password(session, person, email=person.email, password=password)
    elif account is not None and person.email and account.email != person.email:
        account.email = person.email
    async with one_of_a_kind(session, _email_taken()):
        await session.flush()
    person_event(session, person)
    return person


async def _record_grants(
    session: AsyncSession,
    person: Person,
    old_roles: list[str],
    old_school_ids: list[uuid.UUID],
    old_active: bool,
) -> None:
    """Keeps the gateway's own token revocations in step with a change to ``person``: a role
    or school taken away, or a deactivation, stops their current tokens here at once."""
    roles, school_ids = list(person.roles or []), list(person.school_ids or [])
    narrowed, deactivated = revocation.narrowing(
        old_roles=old_roles,
        old_school_ids=old_school_ids,
        old_active=old_active,
        roles=roles,
        school_ids=school_ids,
        active=person.active,
    )
    subject = revocation.subject_of_person(person.id)
    if narrowed:
        await revocation.record(
            session,
            TokenRevocation,
            subject=subject,
            trust_id=person.trust_id,
            active=person.active,
            roles=roles,
            school_ids=school_ids,
            at=utcnow(),
            narrowed=True,
            deactivated=deactivated,
        )
    else:
        await revocation.update_if_tracked(
            session,
            TokenRevocation,
            subject=subject,
            active=person.active,
            roles=roles,
            school_ids=school_ids,
        )


# Free text of the directory that may name a person (people's own fields are blanked).
FREE_TEXT = (
    FreeText("groups", "name"),
    FreeText("groups", "description"),
    FreeText("api_clients", "name"),
)


async def erase_person(session: AsyncSession, person: Person, *, principal: Principal) -> Person:
    """Right to erasure: blank every personal field, drop the login and group memberships,
    and tell every service (``directory.person.erased``) to delete or anonymise theirs."""
    _require_admin(principal)
    if person.erased_at is not None:
        return person
    await revocation.record(
        session,
        TokenRevocation,
        subject=revocation.subject_of_person(person.id),
        trust_id=person.trust_id,
        active=False,
        roles=[],
        school_ids=[],
        at=utcnow(),
        narrowed=True,
        deactivated=True,
    )
    account = await session.get(Account, person.id)
    if account is not None:
        await session.delete(account)
    # Before the name is blanked: take it out of what admins wrote about groups and clients.
    await scrub_name(
        session,
        name=person.name,
        person_id=person.id,
        trust_id=person.trust_id,
        columns=FREE_TEXT,
    )
    person.name = ERASED_NAME
    person.email = None
    person.department = None
    person.external_id = None
    person.start_date = None
    person.line_manager_id = None
    person.roles = []
    person.active = False
    person.erased_at = utcnow()
    await session.execute(
        update(Group)
        .where(
            Group.trust_id == person.trust_id,
            any_(Group.member_ids) == person.id,
        )
        .values(member_ids=func.array_remove(Group.member_ids, person.id))
    )
    await session.execute(
        update(Person)
        .where(Person.trust_id == person.trust_id, Person.line_manager_id == person.id)
        .values(line_manager_id=None)
    )
    await session.flush()
    events.add(
        session,
        catalogue.PersonErased(person_id=person.id, trust_id=person.trust_id),
    )
    return person


# ---- groups ---------------------------------------------------------------------------------


def groups_query(*, principal: Principal) -> Select[Any]:
    stmt = select(Group).where(Group.trust_id == principal.trust_id)
    if not principal.is_trust_admin:
        if "school_leader" not in principal.roles:
            raise Forbidden("Only leaders and trust admins can see groups.")
        stmt = stmt.where(
            Group.school_id.is_(None) | Group.school_id.in_(list(principal.school_ids))
        )
    return stmt


async def get_group(session: AsyncSession, group_id: uuid.UUID, *, principal: Principal) -> Group:
    group = None
    if principal.has_any("trust_admin", "school_leader"):
        group = await session.scalar(groups_query(principal=principal).where(Group.id == group_id))
    if group is None:
        raise errors.GroupNotFound()
    return group


async def _check_members(session: AsyncSession, trust_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    known = set(
        (
            await session.scalars(
                select(Person.id).where(Person.trust_id == trust_id, Person.id.in_(ids))
            )
        ).all()
    )
    problems = [
        {"loc": f"body.member_ids.{i}", "msg": f"no person {pid} in this trust"}
        for i, pid in enumerate(ids)
        if pid not in known
    ]
    if problems:
        raise Unprocessable("Some members are not people of this trust.", errors=problems)


async def create_group(
    session: AsyncSession, data: schemas.GroupCreate, *, principal: Principal
) -> Group:
    _require_admin(principal)
    await _check_references(
        session,
        trust_id=principal.trust_id,
        school_ids=[data.school_id] if data.school_id else None,
        line_manager_id=None,
    )
    await _check_members(session, principal.trust_id, data.member_ids)
    group = Group(trust_id=principal.trust_id, **data.model_dump())
    group.member_ids = list(dict.fromkeys(data.member_ids))
    session.add(group)
    await session.flush()
    return group


async def update_group(
    session: AsyncSession, group: Group, data: schemas.GroupUpdate, *, principal: Principal
) -> Group:
    _require_admin(principal)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("member_ids") is not None:
        await _check_members(session, group.trust_id, changes["member_ids"])
        changes["member_ids"] = list(dict.fromkeys(changes["member_ids"]))
    for key, value in changes.items():
        if key in {"name", "member_ids"} and value is None:
            continue
        setattr(group, key, value)
    group.updated_at = utcnow()
    await session.flush()
    return group


async def delete_group(session: AsyncSession, group: Group, *, principal: Principal) -> None:
    _require_admin(principal)
    await session.delete(group)


# ---- API clients ----------------------------------------------------------------------------


def clients_query(*, principal: Principal) -> Select[Any]:
    _require_admin(principal)
    return select(ApiClient).where(ApiClient.trust_id == principal.trust_id)


async def get_client(
    session: AsyncSession, client_id: uuid.UUID, *, principal: Principal
) -> ApiClient:
    client = None
    if principal.is_trust_admin:
        client = await session.scalar(
            clients_query(principal=principal).where(ApiClient.id == client_id)
        )
    if client is None:
        raise errors.ClientNotFound()
    return client


async def create_client(
    session: AsyncSession, data: schemas.ClientCreate, *, principal: Principal
) -> tuple[ApiClient, str]:
    _require_admin(principal)
    client_id = data.client_id or f"client-{secrets.token_hex(6)}"
    if await session.scalar(select(ApiClient.id).where(ApiClient.client_id == client_id)):
        raise errors.ClientIdTaken()
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        trust_id=principal.trust_id,
        client_id=client_id,
        name=data.name,
        secret_hash=await passwords.hash_secret(secret),
        roles=list(data.roles),
        scopes=list(data.scopes),
    )
    async with one_of_a_kind(session, errors.ClientIdTaken()):
        session.add(client)
        await session.flush()
    return client, secret


async def revoke_client(session: AsyncSession, client: ApiClient, *, principal: Principal) -> None:
    _require_admin(principal)
    if client.active:
        await revocation.record(
            session,
            TokenRevocation,
            subject=revocation.subject_of_client(client.client_id),
            trust_id=client.trust_id,
            active=False,
            roles=None,
            school_ids=None,
            at=utcnow(),
            narrowed=True,
            deactivated=True,
        )
        events.add(
            session,
            catalogue.ClientRevoked(client_id=client.client_id, trust_id=client.trust_id),
        )
    client.active = False
    client.updated_at = utcnow()
    await session.flush()
