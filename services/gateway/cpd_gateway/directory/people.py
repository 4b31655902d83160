"""People of a trust: who sees whom, adding and changing people (their schools, line
manager, roles and login email), and keeping the gateway's token revocations in step when a
change narrows what someone may do. Every change publishes ``directory.person.upserted``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import Select, any_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, revocation
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, utcnow, where_given
from cpd_common.errors import Unprocessable, is_unique_violation
from cpd_common.events import catalogue
from cpd_common.pagination import sort_param, text_search
from cpd_gateway.directory import errors, schemas
from cpd_gateway.directory.trusts import manages_people, require_people_manager
from cpd_gateway.identity import service as identity
from cpd_gateway.models import Account, Person, School, TokenRevocation

# ``?sort=`` of ``GET /v1/people`` (names sort without regard to case).
SORTS = sort_param(
    {"name": func.lower(Person.name), "created_at": Person.created_at},
)


def people_query(
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    staff_group: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> Select[Any]:
    stmt = select(Person).where(Person.trust_id == principal.trust_id)
    search = text_search(q, Person.name, Person.email, Person.department, Person.external_id)
    if search is not None:
        stmt = stmt.where(search)
    if not manages_people(principal):
        if "school_leader" in principal.roles and principal.school_ids:
            stmt = stmt.where(Person.school_ids.overlap(list(principal.school_ids)))
        else:
            stmt = stmt.where(Person.id == principal.person_id)
    if school_id is not None:
        stmt = stmt.where(any_(Person.school_ids) == school_id)
    stmt = where_given(stmt, (Person.staff_group, staff_group))
    if active is not None:
        stmt = stmt.where(Person.active.is_(active))
    return stmt


async def get_person(
    session: AsyncSession, person_id: uuid.UUID, *, principal: Principal
) -> Person:
    return await scalar_or_raise(
        session,
        people_query(principal=principal).where(Person.id == person_id),
        errors.PersonNotFound,
    )


async def has_login(session: AsyncSession, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(Account.person_id == person_id))))


async def logins_of(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(
        (await session.scalars(select(Account.person_id).where(Account.person_id.in_(ids)))).all()
    )


def upserted(person: Any) -> catalogue.PersonUpserted:
    """The ``directory.person.upserted`` of a person (or of the values a bulk insert wrote)."""
    return catalogue.PersonUpserted(
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
    )


def person_event(session: AsyncSession, person: Person) -> None:
    events.add(session, upserted(person))


async def check_references(
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


async def _check_unique(
    session: AsyncSession,
    trust_id: uuid.UUID,
    *,
    email: str | None,
    user_name: str | None,
    external_id: str | None,
    person_id: uuid.UUID | None = None,
) -> None:
    """Emails are login names, so they are unique across the platform (people and accounts);
    what an HR system matches people by (user name, external id) is one person's in a trust.
    One round trip for all three; the email is answered first, then the user name."""
    checks: list[tuple[Any, Callable[[], Exception]]] = []
    if email:
        email = email.lower()
        # Emails are stored lower-cased (every write lowers them; the migration that made
        # them unique lowered the old ones): compared as they are, the unique index answers,
        # where lower(email) would read every person of the platform.
        other_person = select(Person.id).where(Person.email == email)
        other_account = select(Account.person_id).where(Account.email == email)
        if person_id is not None:
            other_person = other_person.where(Person.id != person_id)
            other_account = other_account.where(Account.person_id != person_id)
        checks.append((exists(other_person) | exists(other_account), _email_taken))
    if user_name:
        other = select(Person.id).where(
            Person.trust_id == trust_id, func.lower(Person.user_name) == user_name.lower()
        )
        if person_id is not None:
            other = other.where(Person.id != person_id)
        checks.append((exists(other), _user_name_taken))
    if external_id:
        other = select(Person.id).where(
            Person.trust_id == trust_id, Person.external_id == external_id
        )
        if person_id is not None:
            other = other.where(Person.id != person_id)
        checks.append((exists(other), _external_id_taken))
    if not checks:
        return
    taken = (await session.execute(select(*(check for check, _ in checks)))).one()
    for (_, refusal), used in zip(checks, taken, strict=True):
        if used:
            raise refusal()


@contextlib.asynccontextmanager
async def one_person_each(session: AsyncSession) -> AsyncIterator[None]:
    """The unique constraints (email platform-wide; user name and external id per trust) hold
    the rules under concurrency: a lost race answers the same 409 as the check before it."""
    try:
        async with session.begin_nested():
            yield
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        violated = str(exc.orig)
        if "uq_people_trust_user_name" in violated:
            raise _user_name_taken() from exc
        if "uq_people_trust_external_id" in violated:
            raise _external_id_taken() from exc
        raise _email_taken() from exc


async def create_person(
    session: AsyncSession, data: schemas.PersonCreate, *, principal: Principal
) -> Person:
    require_people_manager(principal)
    if data.password and not data.email:
        raise Unprocessable(
            "A login needs an email.",
            errors=[{"loc": "body.email", "msg": "required with password"}],
        )
    await check_references(
        session,
        trust_id=principal.trust_id,
        school_ids=data.school_ids,
        line_manager_id=data.line_manager_id,
    )
    email = data.email.lower() if data.email else None
    await _check_unique(
        session,
        principal.trust_id,
        email=email,
        user_name=data.user_name,
        external_id=data.external_id,
    )
    person = Person(
        trust_id=principal.trust_id,
        **data.model_dump(exclude={"password", "email"}),
        email=email,
    )
    async with one_person_each(session):
        session.add(person)
        await session.flush()
        if data.password and email:
            await identity.set_password(session, person, email=email, password=data.password)
            await session.flush()
    person_event(session, person)
    return person


def _email_taken() -> errors.EmailTaken:
    # The same words whoever holds the email, in this trust or another (directory.probes).
    return errors.EmailTaken(
        "This email cannot be used.",
        errors=[{"loc": "body.email", "msg": "cannot be used"}],
    )


def _user_name_taken() -> errors.UserNameTaken:
    return errors.UserNameTaken(
        "Another person of this trust already has this user name.",
        errors=[{"loc": "body.user_name", "msg": "already in use"}],
    )


def _external_id_taken() -> errors.ExternalIdTaken:
    return errors.ExternalIdTaken(
        "Another person of this trust already has this external id.",
        errors=[{"loc": "body.external_id", "msg": "already in use"}],
    )


async def update_person(
    session: AsyncSession, person: Person, data: schemas.PersonUpdate, *, principal: Principal
) -> Person:
    require_people_manager(principal)
    if person.erased_at is not None:
        raise errors.PersonErased("This person was erased; nothing about them can change.")
    changes = data.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    await check_references(
        session,
        trust_id=person.trust_id,
        school_ids=changes.get("school_ids"),
        line_manager_id=changes.get("line_manager_id"),
        person_id=person.id,
    )
    if changes.get("email"):
        changes["email"] = changes["email"].lower()
    await _check_unique(
        session,
        person.trust_id,
        email=changes.get("email"),
        user_name=changes.get("user_name"),
        external_id=changes.get("external_id"),
        person_id=person.id,
    )
    before = (list(person.roles or []), list(person.school_ids or []), person.active)
    for key, value in changes.items():
        if key in {"name", "school_ids", "roles", "active"} and value is None:
            continue
        setattr(person, key, value)
    person.updated_at = utcnow()
    await record_grants(session, person, *before)
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
    async with one_person_each(session):
        await session.flush()
    person_event(session, person)
    return person


async def record_grants(
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
