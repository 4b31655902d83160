"""Who belongs to a study, in which role; and what erasure does to a membership."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_common.erasure import FreeText, scrub_name
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_common.schemas import from_row
from cpd_lessonstudy.members.errors import (
    AlreadyMember,
    InvalidMember,
    MemberHasRecord,
    MemberNotFound,
)
from cpd_lessonstudy.members.schemas import MemberCreate, MemberRead, MemberUpdate
from cpd_lessonstudy.models import (
    LessonStudy,
    MemberMinutes,
    Observation,
    Person,
    Prediction,
    PupilInterview,
    ResearchLesson,
    StudyMember,
    TimeRecord,
)
from cpd_lessonstudy.studies.access import ensure_open, get_access
from cpd_lessonstudy.terms import FORMER_MEMBER

SCHOOL_ROLES = ("teacher", "observer", "facilitator")


@dataclass(frozen=True)
class MemberView:
    id: uuid.UUID
    person_id: uuid.UUID | None
    name: str
    role: str
    former_member: bool


def _display_name(member: StudyMember, name: str | None) -> str:
    if member.former_member or member.person_id is None:
        return FORMER_MEMBER
    return name or "Unknown person"


def _with_people(stmt: Select[StudyMember]) -> Select[Any]:
    return stmt.add_columns(Person.name, Person.school_ids).outerjoin(
        Person, Person.id == StudyMember.person_id
    )


def member_read(
    member: StudyMember, name: str | None, school_ids: list[uuid.UUID] | None
) -> MemberRead:
    return from_row(
        MemberRead, member, name=_display_name(member, name), school_ids=list(school_ids or [])
    )


async def members_of(
    session: AsyncSession, study_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[MemberRead]]:
    """Members of several studies (one query), in joining order."""
    ids = list(study_ids)
    out: dict[uuid.UUID, list[MemberRead]] = {i: [] for i in ids}
    if not ids:
        return out
    stmt = _with_people(
        select(StudyMember).where(StudyMember.study_id.in_(ids)).order_by(StudyMember.id)
    )
    for member, name, schools in (await session.execute(stmt)).all():
        out[member.study_id].append(member_read(member, name, schools))
    return out


async def member_views(session: AsyncSession, study_id: uuid.UUID) -> dict[uuid.UUID, MemberView]:
    """Display names by membership id (authorship of notes is a membership, never a name)."""
    reads = (await members_of(session, [study_id]))[study_id]
    return {m.id: MemberView(m.id, m.person_id, m.name, m.role, m.former_member) for m in reads}


async def check_person(
    session: AsyncSession, *, study: LessonStudy, person_id: uuid.UUID, role: str, loc: str
) -> Person:
    """The person must be active in the study's trust; teachers, observers and facilitators
    must belong to one of the study's schools (a knowledgeable other may come from any)."""
    person = await session.scalar(
        select(Person).where(Person.id == person_id, Person.trust_id == study.trust_id)
    )
    if person is None or not person.active:
        raise InvalidMember(
            "No active person with this id in your trust.",
            errors=[{"loc": f"{loc}.person_id", "msg": "unknown person"}],
        )
    if role in SCHOOL_ROLES and set(person.school_ids).isdisjoint(study.school_ids):
        raise InvalidMember(
            f"{person.name} is not at one of the study's schools: a {role} must be; someone "
            "from another school of the trust can join as knowledgeable_other (or add their "
            "school to the study).",
            errors=[{"loc": f"{loc}.role", "msg": "person is not at one of the study's schools"}],
        )
    return person


async def add_member_row(
    session: AsyncSession, *, study: LessonStudy, person_id: uuid.UUID, role: str, loc: str
) -> StudyMember:
    await check_person(session, study=study, person_id=person_id, role=role, loc=loc)
    taken = await session.scalar(
        select(StudyMember.id).where(
            StudyMember.study_id == study.id, StudyMember.person_id == person_id
        )
    )
    if taken is not None:
        raise AlreadyMember(
            "This person is already a member of the study; change their role instead."
        )
    member = StudyMember(study_id=study.id, trust_id=study.trust_id, person_id=person_id, role=role)
    session.add(member)
    await session.flush()
    return member


async def add_member(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal, data: MemberCreate
) -> MemberRead:
    access = await get_access(session, study_id, principal=principal, write=True)
    ensure_open(access.study)
    member = await add_member_row(
        session, study=access.study, person_id=data.person_id, role=data.role, loc="body"
    )
    return await get_member(session, study_id, member.id, principal=principal)


def members_query(study_id: uuid.UUID) -> Select[StudyMember]:
    return select(StudyMember).where(StudyMember.study_id == study_id)


async def reads_for(session: AsyncSession, members: list[StudyMember]) -> list[MemberRead]:
    if not members:
        return []
    rows = (
        await session.execute(
            select(Person.id, Person.name, Person.school_ids).where(
                Person.id.in_([m.person_id for m in members if m.person_id is not None])
            )
        )
    ).all()
    people = {r.id: (r.name, r.school_ids) for r in rows}
    return [member_read(m, *people.get(m.person_id, (None, None))) for m in members]


async def _load(session: AsyncSession, study_id: uuid.UUID, member_id: uuid.UUID) -> StudyMember:
    return await scalar_or_raise(
        session,
        select(StudyMember).where(StudyMember.id == member_id, StudyMember.study_id == study_id),
        MemberNotFound,
    )


async def get_member(
    session: AsyncSession, study_id: uuid.UUID, member_id: uuid.UUID, *, principal: Principal
) -> MemberRead:
    await get_access(session, study_id, principal=principal)
    member = await _load(session, study_id, member_id)
    return (await reads_for(session, [member]))[0]


async def update_member(
    session: AsyncSession,
    study_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    principal: Principal,
    data: MemberUpdate,
) -> MemberRead:
    access = await get_access(session, study_id, principal=principal, write=True)
    ensure_open(access.study)
    member = await _load(session, study_id, member_id)
    if member.person_id is None:
        raise MemberHasRecord("A former member's role is part of the record and cannot change.")
    await check_person(
        session, study=access.study, person_id=member.person_id, role=data.role, loc="body"
    )
    member.role = data.role
    await session.flush()
    return (await reads_for(session, [member]))[0]


async def remove_member(
    session: AsyncSession, study_id: uuid.UUID, member_id: uuid.UUID, *, principal: Principal
) -> None:
    """Only while the study is being planned, and only if they have recorded nothing: once
    the cycles begin, who took part is part of the study's record."""
    access = await get_access(session, study_id, principal=principal, write=True)
    member = await _load(session, study_id, member_id)
    if access.study.status != "planning":
        raise MemberHasRecord(
            "Members can only be removed while the study is being planned; once the cycles "
            "begin, who took part is part of the study's record."
        )
    referenced = await session.scalar(
        select(
            or_(
                exists().where(ResearchLesson.teacher_member_id == member_id),
                exists().where(Observation.observer_member_id == member_id),
                exists().where(PupilInterview.interviewer_member_id == member_id),
                exists().where(MemberMinutes.member_id == member_id),
                exists().where(Prediction.recorded_by == member_id),
                exists().where(TimeRecord.recorded_by == member_id),
            )
        )
    )
    if referenced:
        raise MemberHasRecord(
            "This member already teaches a planned lesson, wrote predictions or has recorded "
            "time: they are part of the record."
        )
    await tombstones.delete_where(
        session, StudyMember, StudyMember.id == member.id, parent=StudyMember.study_id
    )


# ---- right to erasure -------------------------------------------------------------------------

# Every free-text column of the trust's lesson studies: an erased person may be named in any
# study's record, not only in the studies they belonged to.
FREE_TEXT = tuple(
    FreeText(table, column, json=table == "study_findings" and column != "summary")
    for table, columns in (
        (
            "lesson_studies",
            ("title", "learning_goal", "success_evidence", "technique", "research_question"),
        ),
        ("case_pupils", ("profile", "starting_point", "success_criteria")),
        ("research_lessons", ("title", "plan_summary", "changes_from_previous")),
        ("lesson_stages", ("title", "description")),
        ("predictions", ("response",)),
        ("observations", ("response", "notes")),
        ("pupil_interviews", ("notes",)),
        ("discussions", ("what_to_change", "next_lesson_plan")),
        ("pupil_reflections", ("learning",)),
        ("study_findings", ("summary", "practices", "what_worked", "to_share")),
        ("open_house_lessons", ("notes",)),
        ("time_records", ("description",)),
    )
    for column in columns
)


async def scrub_erased_name(
    session: AsyncSession, payload: catalogue.PersonErased, name: str | None
) -> None:
    """Runs before the directory row is deleted (``scrub_name`` of the directory handlers):
    replaces the person's name in the notes of every study of their trust with "a former
    member"."""
    await scrub_name(
        session,
        name=name,
        person_id=payload.person_id,
        trust_id=payload.trust_id,
        columns=FREE_TEXT,
    )


async def replace_erased_member(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    """``on_erased``: the person's memberships become anonymous former members (their
    predictions, observations and hours stay, authored by "Former member")."""
    await session.execute(
        update(StudyMember)
        .where(StudyMember.person_id == payload.person_id)
        .values(person_id=None, former_member=True)
    )
    await session.execute(
        update(LessonStudy)
        .where(LessonStudy.created_by == payload.person_id)
        .values(created_by=None)
    )
