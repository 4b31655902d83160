"""SCIM Users: the directory person as a SCIM User, and creating, replacing, patching and
de-provisioning one. DELETE de-provisions: the person is deactivated (their tokens stop at
once), SCIM answers 404 for them from then on, and the trust's ``deprovisioning`` policy says
whether they are also erased at once. Creating a de-provisioned person again (same
externalId or userName) brings the same directory record back rather than a duplicate."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from scim2_models import (
    Context,
    InvalidValueException,
    NotFoundException,
    PatchOp,
    SearchRequest,
    UniquenessException,
)
from scim2_models import Meta as ScimMeta
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_gateway.directory import erasure as erasure_service
from cpd_gateway.directory import people as people_service
from cpd_gateway.directory import schemas as directory_schemas
from cpd_gateway.models import Group, Person
from cpd_gateway.scim import filters
from cpd_gateway.scim.models import (
    CpdUser,
    Email,
    EnterpriseUser,
    GroupMembership,
    Manager,
    Name,
    ScimUser,
)
from cpd_gateway.scim.models import School as ScimSchool
from cpd_gateway.scim.service import Scope, checked, parse_id, reference_id, search_page, version_of


def users_query(principal: Principal) -> Select[Any]:
    """People SCIM shows: the trust's, never erased or de-provisioned ones."""
    return people_service.people_query(principal=principal).where(
        Person.erased_at.is_(None), Person.deprovisioned_at.is_(None)
    )


async def get_user(
    session: AsyncSession, user_id: str, *, scope: Scope, for_update: bool = False
) -> Person:
    ident = parse_id(user_id)
    person = None
    if ident is not None:
        stmt = users_query(scope.principal).where(Person.id == ident)
        person = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if person is None:
        raise NotFoundException(detail=f"No User {user_id} in this trust.")
    return person


async def _memberships(
    session: AsyncSession, trust_id: uuid.UUID, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {pid: [] for pid in person_ids}
    if not person_ids:
        return found
    rows = await session.execute(
        select(Group.id, Group.name, Group.member_ids)
        .where(Group.trust_id == trust_id, Group.member_ids.overlap(list(person_ids)))
        .order_by(Group.id)
    )
    for row in rows:
        for member in row.member_ids:
            if member in found:
                found[member].append((row.id, row.name))
    return found


async def _names(
    session: AsyncSession, trust_id: uuid.UUID, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(Person.id, Person.name).where(Person.trust_id == trust_id, Person.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), UTC) if day else None


def _user(
    person: Person,
    scope: Scope,
    groups: list[tuple[uuid.UUID, str]],
    names: dict[uuid.UUID, str],
) -> ScimUser:
    user = ScimUser(
        id=str(person.id),
        external_id=person.external_id,
        user_name=person.user_name or person.email or str(person.id),
        # The name in parts when the HR system gave them; displayName always holds it whole.
        name=Name(
            formatted=person.name, given_name=person.given_name, family_name=person.family_name
        )
        if person.given_name or person.family_name
        else None,
        display_name=person.name,
        active=person.active,
        emails=[Email(value=person.email, type=Email.Type.work, primary=True)]
        if person.email
        else None,
        groups=[
            GroupMembership(value=str(gid), ref=scope.location("Groups", gid), display=name)
            for gid, name in groups
        ]
        or None,
    )
    manager = None
    if person.line_manager_id is not None:
        manager = Manager(
            value=str(person.line_manager_id),
            ref=scope.location("Users", person.line_manager_id),
            display_name=names.get(person.line_manager_id),
        )
    user[EnterpriseUser] = EnterpriseUser(
        employee_number=person.employee_number,
        organization=scope.trust.name,
        department=person.department,
        manager=manager,
    )
    user[CpdUser] = CpdUser(
        schools=[
            ScimSchool(value=str(sid), display=scope.schools.get(sid))
            for sid in person.school_ids or []
        ]
        or None,
        staff_group=person.staff_group,
        career_stage=person.career_stage,
        fte=None if person.fte is None else format(person.fte, "g"),
        start_date=_start(person.start_date),
    )
    user.meta = ScimMeta(
        resource_type="User",
        created=person.created_at,
        last_modified=person.updated_at,
        location=scope.location("Users", person.id),
    )
    user.meta.version = version_of(user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return user


async def users(
    session: AsyncSession, people: Sequence[Person], *, scope: Scope, new: bool = False
) -> list[ScimUser]:
    """The SCIM Users of ``people``, with their groups and managers' names (three queries
    for any number of people; ``new``: people created in this request, in no group yet)."""
    trust_id = scope.principal.trust_id
    groups = (
        {p.id: [] for p in people}
        if new
        else await _memberships(session, trust_id, [p.id for p in people])
    )
    names = await _names(session, trust_id, (p.line_manager_id for p in people))
    return [_user(p, scope, groups[p.id], names) for p in people]


async def user(
    session: AsyncSession, person: Person, *, scope: Scope, new: bool = False
) -> ScimUser:
    return (await users(session, [person], scope=scope, new=new))[0]


async def list_users(
    session: AsyncSession, request: SearchRequest[Any], *, scope: Scope
) -> tuple[int, list[Person]]:
    stmt = users_query(scope.principal)
    if request.filter is not None:
        stmt = stmt.where(filters.user_filter(request.filter.ast))
    return await search_page(session, stmt, request, Person.id, groups=False)


def _sign_in_email(emails: list[Email] | None) -> str | None:
    """The address the directory keeps: the primary one, else the work one, else the first."""
    values = [e for e in emails or [] if e.value]
    for pick in (
        lambda e: e.primary is True,
        lambda e: str(e.type or "").lower() == "work",
        lambda e: True,
    ):
        for email in values:
            if pick(email):
                return str(email.value).lower()
    return None


def _display_name(user: ScimUser, before: ScimUser | None) -> str | None:
    """The directory's one name: what the client changed (displayName, then name.formatted,
    then the given and family names), else what it sent, else the userName."""
    name = user.name or Name()
    joined = " ".join(p for p in (name.given_name, name.family_name) if p) or None
    if before is not None:
        old = before.name or Name()
        if user.display_name and user.display_name != before.display_name:
            return user.display_name
        if name.formatted and name.formatted != old.formatted:
            return name.formatted
        if joined and (name.given_name, name.family_name) != (old.given_name, old.family_name):
            return joined
        return user.display_name or name.formatted or joined or before.display_name
    return user.display_name or name.formatted or joined or user.user_name


def person_fields(
    user: ScimUser, *, before: ScimUser | None = None, keep_cpd: bool = False
) -> dict[str, Any]:
    """The directory fields a SCIM User sets (what it leaves out is cleared, as a replace
    does). ``keep_cpd``: without the CPD extension in the payload its fields stay as they
    are (an HR system that does not know our extension must not wipe schools)."""
    name = user.name or Name()
    fields: dict[str, Any] = {
        "user_name": user.user_name,
        "external_id": user.external_id,
        "name": _display_name(user, before),
        "given_name": name.given_name,
        "family_name": name.family_name,
        "email": _sign_in_email(user.emails),
    }
    if user.active is not None:
        fields["active"] = user.active
    enterprise = user[EnterpriseUser] or EnterpriseUser()
    manager = enterprise.manager
    fields |= {
        "employee_number": enterprise.employee_number,
        "department": enterprise.department,
        "line_manager_id": reference_id(manager.value, manager.ref, "manager")
        if manager is not None
        else None,
    }
    cpd = user[CpdUser]
    if cpd is None and keep_cpd:
        return fields
    cpd = cpd or CpdUser()
    fields |= {
        "school_ids": list(
            dict.fromkeys(
                sid
                for school in cpd.schools or []
                if (sid := reference_id(school.value, None, "school")) is not None
            )
        ),
        "staff_group": cpd.staff_group,
        "career_stage": cpd.career_stage,
        "fte": _fte(cpd.fte),
        "start_date": filters.as_date(cpd.start_date),
    }
    return fields


def _fte(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidValueException(
            detail=f'fte is a decimal from 0 to 1 written as a string, such as "0.8", not {value!r}'
        ) from None


def _changes(person: Person, fields: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for key, value in fields.items():
        current = getattr(person, key)
        if key == "school_ids":
            if list(current or []) != list(value or []):
                changes[key] = value
        elif key in {"email", "user_name"} and isinstance(value, str) and isinstance(current, str):
            if value.lower() != current.lower() or (key == "user_name" and value != current):
                changes[key] = value
        elif current != value:
            changes[key] = value
    if changes.get("name") is None:
        changes.pop("name", None)
    return changes


def _user_name_is(trust_id: uuid.UUID, user_name: str) -> ColumnElement[bool]:
    """The trust's person whose ``lower(coalesce(user_name, email))`` is ``user_name``
    lowered (a person without a user name is known by their email), in a form the indexes
    serve: the unique ones on ``(trust_id, lower(user_name))`` and on ``email`` (stored
    lower-cased). The coalesce itself has no index: it read every person of the trust."""
    wanted = user_name.lower()
    return or_(
        and_(
            Person.trust_id == trust_id,
            Person.user_name.is_not(None),
            func.lower(Person.user_name) == wanted,
        ),
        and_(Person.trust_id == trust_id, Person.user_name.is_(None), Person.email == wanted),
    )


async def _user_name_in_use(
    session: AsyncSession, trust_id: uuid.UUID, user_name: str, *, other_than: uuid.UUID | None
) -> Person | None:
    stmt = select(Person).where(
        Person.trust_id == trust_id,
        Person.erased_at.is_(None),
        _user_name_is(trust_id, user_name),
    )
    if other_than is not None:
        stmt = stmt.where(Person.id != other_than)
    return await session.scalar(stmt.limit(1))


async def _apply(
    session: AsyncSession, person: Person, fields: dict[str, Any], *, scope: Scope
) -> Person:
    """Makes ``person`` hold ``fields`` through the directory (one event), or nothing at all
    when they already do."""
    user_name = fields.get("user_name")
    if user_name and await _user_name_in_use(
        session, person.trust_id, user_name, other_than=person.id
    ):
        raise UniquenessException(detail=f"userName {user_name!r} is already in use.")
    changes = _changes(person, fields)
    if not changes:
        return person
    data = checked(directory_schemas.PersonUpdate, changes)
    return await people_service.update_person(session, person, data, principal=scope.principal)


async def create_user(
    session: AsyncSession, payload: ScimUser, *, scope: Scope
) -> tuple[Person, bool]:
    """The person a create names: a de-provisioned one the HR system names again (``False``)
    or a new one (``True``)."""
    fields = person_fields(payload)
    trust_id = scope.principal.trust_id
    returning = await _deprovisioned_match(session, trust_id, fields)
    if returning is not None:
        returning.deprovisioned_at = None
        fields.setdefault("active", True)
        return await _apply(session, returning, fields, scope=scope), False
    if fields["user_name"] and await _user_name_in_use(
        session, trust_id, fields["user_name"], other_than=None
    ):
        raise UniquenessException(detail=f"userName {fields['user_name']!r} is already in use.")
    data = checked(
        directory_schemas.PersonCreate, {k: v for k, v in fields.items() if v is not None}
    )
    return await people_service.create_person(session, data, principal=scope.principal), True


async def _deprovisioned_match(
    session: AsyncSession, trust_id: uuid.UUID, fields: dict[str, Any]
) -> Person | None:
    """The de-provisioned person a create names again (by externalId, else userName)."""
    conditions = []
    if fields.get("external_id"):
        conditions.append(Person.external_id == fields["external_id"])
    elif fields.get("user_name"):
        conditions.append(_user_name_is(trust_id, fields["user_name"]))
    if not conditions:
        return None
    return await session.scalar(
        select(Person)
        .where(
            Person.trust_id == trust_id,
            Person.erased_at.is_(None),
            Person.deprovisioned_at.is_not(None),
            and_(*conditions),
        )
        .with_for_update()
        .limit(1)
    )


async def replace_user(
    session: AsyncSession, person: Person, payload: ScimUser, *, scope: Scope
) -> Person:
    return await _apply(session, person, person_fields(payload, keep_cpd=True), scope=scope)


async def patch_user(
    session: AsyncSession, person: Person, patch: PatchOp[Any], *, scope: Scope
) -> Person:
    current = await user(session, person, scope=scope)
    before = current.model_copy(deep=True)
    patch.patch(current)
    return await _apply(session, person, person_fields(current, before=before), scope=scope)


async def delete_user(session: AsyncSession, person: Person, *, scope: Scope) -> None:
    """De-provisions: deactivates through the directory (``directory.person.upserted``,
    tokens revoked), then erases when the trust's policy says so."""
    if person.active:
        data = directory_schemas.PersonUpdate(active=False)
        await people_service.update_person(session, person, data, principal=scope.principal)
    person.deprovisioned_at = utcnow()
    await session.flush()
    if scope.trust.deprovisioning == "erase":
        await erasure_service.erase_person(session, person, principal=scope.principal)
