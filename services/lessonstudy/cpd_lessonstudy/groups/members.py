"""Membership of practitioner groups (enquiries, learning communities): who belongs, the one
coordinator, and what erasure does (an anonymous former member; names gone from free text)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_common.erasure import name_pattern as _name_pattern
from cpd_common.schemas import from_row
from cpd_lessonstudy.groups.access import COMMUNITY, ENQUIRY, GroupKind, get_access
from cpd_lessonstudy.groups.errors import (
    AlreadyMember,
    CoordinatorTaken,
    GroupMemberNotFound,
    InvalidGroup,
    MemberHasRecord,
)
from cpd_lessonstudy.groups.schemas import GroupMemberCreate, GroupMemberRead, GroupMemberUpdate
from cpd_lessonstudy.models import Person
from cpd_lessonstudy.models.communities import LearningCommunity
from cpd_lessonstudy.models.enquiries import Enquiry
from cpd_lessonstudy.terms import FORMER_MEMBER


def member_read(
    member: Any, name: str | None, school_ids: list[uuid.UUID] | None
) -> GroupMemberRead:
    former = member.former_member or member.person_id is None
    return from_row(
        GroupMemberRead,
        member,
        name=FORMER_MEMBER if former else (name or "Unknown person"),
        school_ids=list(school_ids or []),
    )


async def members_of(
    session: AsyncSession, kind: GroupKind[Any], group_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[GroupMemberRead]]:
    """Members of several groups (one query), in joining order."""
    ids = list(group_ids)
    out: dict[uuid.UUID, list[GroupMemberRead]] = {i: [] for i in ids}
    if not ids:
        return out
    m = kind.member
    stmt = (
        select(m, Person.name, Person.school_ids)
        .outerjoin(Person, Person.id == m.person_id)
        .where(kind.member_parent().in_(ids))
        .order_by(m.id)
    )
    for member, name, schools in (await session.execute(stmt)).all():
        out[getattr(member, kind.fk)].append(member_read(member, name, schools))
    return out


async def names_of(
    session: AsyncSession, kind: GroupKind[Any], group_id: uuid.UUID
) -> dict[uuid.UUID, str]:
    """Display names by membership id (authorship is a membership, never a name)."""
    return {m.id: m.name for m in (await members_of(session, kind, [group_id]))[group_id]}


async def check_person(
    session: AsyncSession,
    *,
    group: Enquiry | LearningCommunity,
    person_id: uuid.UUID,
    loc: str,
    check_school: bool = True,
) -> Person:
    """An active person of the group's trust, at one of the group's schools."""
    person = await session.scalar(
        select(Person).where(Person.id == person_id, Person.trust_id == group.trust_id)
    )
    if person is None or not person.active:
        raise InvalidGroup(
            "No active person with this id in your trust.",
            errors=[{"loc": f"{loc}.person_id", "msg": "unknown person"}],
        )
    if check_school and set(person.school_ids).isdisjoint(group.school_ids):
        raise InvalidGroup(
            f"{person.name} is not at one of the group's schools: add their school to the "
            "group first (members may come from several schools of the trust).",
            errors=[{"loc": f"{loc}.person_id", "msg": "person is not at one of the schools"}],
        )
    return person


async def add_member_row(
    session: AsyncSession,
    kind: GroupKind[Any],
    *,
    group: Enquiry | LearningCommunity,
    person_id: uuid.UUID,
    role: str,
    loc: str,
    check_school: bool = True,
) -> Any:
    await check_person(
        session, group=group, person_id=person_id, loc=loc, check_school=check_school
    )
    m = kind.member
    taken = await session.scalar(
        select(m.id).where(kind.member_parent() == group.id, m.person_id == person_id)
    )
    if taken is not None:
        raise AlreadyMember(f"This person is already a member of the {kind.noun}.")
    if role == "coordinator":
        await _ensure_no_coordinator(session, kind, group.id)
    member = m(trust_id=group.trust_id, person_id=person_id, role=role, **{kind.fk: group.id})
    session.add(member)
    await session.flush()
    return member


async def add_founding_members(
    session: AsyncSession,
    kind: GroupKind[Any],
    *,
    group: Enquiry | LearningCommunity,
    principal: Principal,
    coordinator_id: uuid.UUID | None,
    member_ids: list[uuid.UUID],
) -> None:
    """The members a new group starts with: its coordinator (the creator unless someone else
    is named), the people listed, and the creator, who always joins: only members can change
    a group. The creator may set one up for schools they do not teach at."""
    assert principal.person_id is not None
    coordinator = coordinator_id or principal.person_id
    listed = [coordinator, *(p for p in member_ids if p != coordinator)]
    if principal.person_id not in listed:
        listed.append(principal.person_id)
    for i, person_id in enumerate(listed):
        await add_member_row(
            session,
            kind,
            group=group,
            person_id=person_id,
            role="coordinator" if person_id == coordinator else "member",
            loc="body.coordinator_id" if i == 0 else f"body.member_ids.{i - 1}",
            check_school=person_id != principal.person_id,
        )


async def _ensure_no_coordinator(
    session: AsyncSession, kind: GroupKind[Any], group_id: uuid.UUID
) -> None:
    m = kind.member
    current = await session.scalar(
        select(m.id).where(kind.member_parent() == group_id, m.role == "coordinator")
    )
    if current is not None:
        raise CoordinatorTaken(
            f"The {kind.noun} already has a coordinator: make them a member first."
        )


def members_query(kind: GroupKind[Any], group_id: uuid.UUID) -> Select[Any]:
    return select(kind.member).where(kind.member_parent() == group_id)


async def reads_for(session: AsyncSession, members: list[Any]) -> list[GroupMemberRead]:
    ids = [m.person_id for m in members if m.person_id is not None]
    people: dict[uuid.UUID, tuple[str, list[uuid.UUID]]] = {}
    if ids:
        rows = await session.execute(
            select(Person.id, Person.name, Person.school_ids).where(Person.id.in_(ids))
        )
        people = {r.id: (r.name, r.school_ids) for r in rows}
    return [member_read(m, *people.get(m.person_id, (None, None))) for m in members]


async def _load(
    session: AsyncSession, kind: GroupKind[Any], group_id: uuid.UUID, member_id: uuid.UUID
) -> Any:
    m = kind.member
    return await scalar_or_raise(
        session,
        select(m).where(m.id == member_id, kind.member_parent() == group_id),
        GroupMemberNotFound,
    )


async def get_member(
    session: AsyncSession,
    kind: GroupKind[Any],
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    principal: Principal,
) -> GroupMemberRead:
    await get_access(session, kind, group_id, principal=principal)
    return (await reads_for(session, [await _load(session, kind, group_id, member_id)]))[0]


async def add_member(
    session: AsyncSession,
    kind: GroupKind[Any],
    group_id: uuid.UUID,
    *,
    principal: Principal,
    data: GroupMemberCreate,
    ensure_open: Callable[[Any], None] | None = None,
) -> GroupMemberRead:
    access = await get_access(session, kind, group_id, principal=principal, write=True)
    if ensure_open is not None:
        ensure_open(access.group)
    member = await add_member_row(
        session, kind, group=access.group, person_id=data.person_id, role=data.role, loc="body"
    )
    return (await reads_for(session, [member]))[0]


async def update_member(
    session: AsyncSession,
    kind: GroupKind[Any],
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    principal: Principal,
    data: GroupMemberUpdate,
    ensure_open: Callable[[Any], None] | None = None,
) -> GroupMemberRead:
    access = await get_access(session, kind, group_id, principal=principal, write=True)
    if ensure_open is not None:
        ensure_open(access.group)
    member = await _load(session, kind, group_id, member_id)
    if member.person_id is None:
        raise MemberHasRecord("A former member's role is part of the record and cannot change.")
    if data.role == "coordinator" and member.role != "coordinator":
        await _ensure_no_coordinator(session, kind, group_id)
    member.role = data.role
    await session.flush()
    return (await reads_for(session, [member]))[0]


async def remove_member(
    session: AsyncSession,
    kind: GroupKind[Any],
    group_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    principal: Principal,
    ensure_open: Callable[[Any], None] | None = None,
) -> None:
    """Only a member who has recorded nothing yet: afterwards who took part is the record."""
    access = await get_access(session, kind, group_id, principal=principal, write=True)
    if ensure_open is not None:
        ensure_open(access.group)
    member = await _load(session, kind, group_id, member_id)
    try:
        async with session.begin_nested():
            await tombstones.delete_where(
                session,
                kind.member,
                kind.member.id == member.id,
                parent=kind.member_parent(),
            )
    except IntegrityError:
        raise MemberHasRecord(
            "This member has already recorded data, time or attendance: they are part of the "
            "record and stay (erasure makes them an anonymous former member)."
        ) from None


# ---- right to erasure -------------------------------------------------------------------------

# Free-text columns scrubbed of an erased member's name: (table, column, parent key, kind).
_ENQUIRY_TEXT = (
    ("enquiries", "question", "id"),
    ("enquiries", "planned_approach", "id"),
    ("enquiries", "pupil_group", "id"),
    ("enquiry_question_answers", "note", "enquiry_id"),
    ("enquiry_data_entries", "summary", "enquiry_id"),
    ("enquiry_findings", "statement", "enquiry_id"),
    ("enquiry_findings", "alternative_interpretations", "enquiry_id"),
    ("enquiry_validity_checks", "interpreted_by", "enquiry_id"),
    ("enquiry_validity_checks", "notes", "enquiry_id"),
    ("enquiry_replications", "notes", "enquiry_id"),
    ("enquiry_disseminations", "audience", "enquiry_id"),
    ("enquiry_disseminations", "what_changed", "enquiry_id"),
    ("enquiry_pupil_voice", "summary", "enquiry_id"),
    ("enquiry_time_records", "description", "enquiry_id"),
)
_COMMUNITY_TEXT = (
    ("learning_communities", "learning_priority", "id"),
    ("learning_communities", "membership_design", "id"),
    ("community_meetings", "minutes_text", "community_id"),
    ("community_meetings", "shared", "community_id"),
    ("community_activities", "focus", "community_id"),
    ("community_shares", "title", "community_id"),
    ("community_shares", "audience", "community_id"),
    ("community_shares", "description", "community_id"),
)
REPLACEMENT = "a former member"


async def scrub_erased_name(
    session: AsyncSession, person_id: uuid.UUID, trust_id: uuid.UUID
) -> None:
    """Runs before the directory row is deleted (it needs the name): replaces the person's
    name in the free text of the enquiries and communities they belonged to."""
    name = await session.scalar(
        select(Person.name).where(Person.id == person_id, Person.trust_id == trust_id)
    )
    if not name or not name.strip():
        return
    params = {"pattern": _name_pattern(name), "person": person_id, "by": REPLACEMENT}
    groups = (
        ("SELECT enquiry_id FROM enquiry_members WHERE person_id = :person", _ENQUIRY_TEXT),
        ("SELECT community_id FROM community_members WHERE person_id = :person", _COMMUNITY_TEXT),
    )
    for involved, columns in groups:
        for table, column, key in columns:
            await session.execute(
                text(
                    f"UPDATE {table} SET {column} = regexp_replace({column}, :pattern, :by, 'gi') "
                    f"WHERE {key} IN ({involved}) AND {column} ~* :pattern"
                ),
                params,
            )
    # Attachments are titles and references: scrub them as text.
    await session.execute(
        text(
            "UPDATE enquiry_data_entries SET attachments = regexp_replace(attachments::text, "
            ":pattern, :by, 'gi')::jsonb WHERE enquiry_id IN (SELECT enquiry_id FROM "
            "enquiry_members WHERE person_id = :person) AND attachments::text ~* :pattern"
        ),
        params,
    )


async def replace_erased_member(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Memberships become anonymous former members; what they recorded stays, authored by
    "Former member"."""
    for kind in (ENQUIRY, COMMUNITY):
        await session.execute(
            update(kind.member)
            .where(kind.member.person_id == person_id)
            .values(person_id=None, former_member=True)
        )
    for parent in (Enquiry, LearningCommunity):
        await session.execute(
            update(parent).where(parent.created_by == person_id).values(created_by=None)
        )
