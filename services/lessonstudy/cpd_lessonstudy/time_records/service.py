"""Time spent on a study: meetings, planning, teaching and observing, in minutes per member,
so each member's lesson-study hours are known (and reach the evaluation service in events)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_common.schemas import from_row
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import MemberMinutes, ResearchLesson, StudyMember, TimeRecord
from cpd_lessonstudy.studies.access import ensure_open, get_access
from cpd_lessonstudy.terms import FORMER_MEMBER
from cpd_lessonstudy.time_records.errors import InvalidTimeRecord, TimeRecordNotFound
from cpd_lessonstudy.time_records.schemas import (
    AttendanceRead,
    MemberHoursRead,
    StudyHours,
    TimeRecordCreate,
    TimeRecordRead,
)


@dataclass(frozen=True)
class MemberTime:
    member_id: uuid.UUID
    person_id: uuid.UUID | None
    role: str
    former_member: bool
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


async def member_hours(
    session: AsyncSession, study_id: uuid.UUID, *, lesson_id: uuid.UUID | None = None
) -> list[MemberTime]:
    """Every member's minutes (0 when none) on the study, or on one research lesson's cycle."""
    spent = (
        select(MemberMinutes.member_id, func.sum(MemberMinutes.minutes).label("minutes"))
        .join(TimeRecord, TimeRecord.id == MemberMinutes.time_record_id)
        .where(TimeRecord.study_id == study_id)
        .group_by(MemberMinutes.member_id)
    )
    if lesson_id is not None:
        spent = spent.where(TimeRecord.research_lesson_id == lesson_id)
    sub = spent.subquery()
    rows = (
        await session.execute(
            select(
                StudyMember.id,
                StudyMember.person_id,
                StudyMember.role,
                StudyMember.former_member,
                func.coalesce(sub.c.minutes, 0),
            )
            .outerjoin(sub, sub.c.member_id == StudyMember.id)
            .where(StudyMember.study_id == study_id)
            .order_by(StudyMember.id)
        )
    ).all()
    return [MemberTime(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]


async def study_hours(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> StudyHours:
    await get_access(session, study_id, principal=principal)
    times = await member_hours(session, study_id)
    names = await members_service.member_views(session, study_id)
    by_kind: dict[uuid.UUID, dict[str, float]] = defaultdict(dict)
    rows = await session.execute(
        select(MemberMinutes.member_id, TimeRecord.kind, func.sum(MemberMinutes.minutes))
        .join(TimeRecord, TimeRecord.id == MemberMinutes.time_record_id)
        .where(TimeRecord.study_id == study_id)
        .group_by(MemberMinutes.member_id, TimeRecord.kind)
    )
    for member_id, kind, minutes in rows:
        by_kind[member_id][kind] = round(int(minutes) / 60, 2)
    members = [
        from_row(
            MemberHoursRead,
            t,
            name=names[t.member_id].name if t.member_id in names else FORMER_MEMBER,
            hours_by_kind=by_kind.get(t.member_id, {}),
        )
        for t in times
    ]
    return StudyHours(
        study_id=study_id,
        members=members,
        total_hours=round(sum(t.minutes for t in times) / 60, 2),
    )


async def record_time(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal, data: TimeRecordCreate
) -> TimeRecord:
    """Any member may record a session for the group (time can be recorded after completion:
    the write-up and the open-house lesson take time too)."""
    access = await get_access(session, study_id, principal=principal, write=True)
    if data.held_on > datetime.now(UTC).date():
        raise InvalidTimeRecord(
            "Record time once it has been spent.",
            errors=[{"loc": "body.held_on", "msg": "in the future"}],
        )
    if data.research_lesson_id is not None:
        found = await session.scalar(
            select(ResearchLesson.id).where(
                ResearchLesson.id == data.research_lesson_id, ResearchLesson.study_id == study_id
            )
        )
        if found is None:
            raise InvalidTimeRecord(
                "Unknown research lesson.",
                errors=[{"loc": "body.research_lesson_id", "msg": "not a lesson of this study"}],
            )
    members = {
        m.id: m
        for m in (
            await session.scalars(select(StudyMember).where(StudyMember.study_id == study_id))
        ).all()
    }
    errors = [
        {"loc": f"body.attendance.{i}.member_id", "msg": "not a (current) member of this study"}
        for i, a in enumerate(data.attendance)
        if a.member_id not in members or members[a.member_id].former_member
    ]
    if errors:
        raise InvalidTimeRecord("Time is recorded for members of the study.", errors=errors)
    record = TimeRecord(
        study_id=study_id,
        trust_id=access.study.trust_id,
        kind=data.kind,
        held_on=data.held_on,
        research_lesson_id=data.research_lesson_id,
        description=data.description,
        recorded_by=access.member_id,
    )
    session.add(record)
    await session.flush()
    session.add_all(
        MemberMinutes(
            time_record_id=record.id,
            member_id=a.member_id,
            trust_id=access.study.trust_id,
            minutes=a.minutes,
        )
        for a in data.attendance
    )
    await session.flush()
    return record


def time_records_query(study_id: uuid.UUID) -> Select[TimeRecord]:
    return select(TimeRecord).where(TimeRecord.study_id == study_id)


async def record_reads(session: AsyncSession, records: list[TimeRecord]) -> list[TimeRecordRead]:
    if not records:
        return []
    names = await members_service.member_views(session, records[0].study_id)
    attendance: dict[uuid.UUID, list[AttendanceRead]] = defaultdict(list)
    rows = await session.scalars(
        select(MemberMinutes)
        .where(MemberMinutes.time_record_id.in_([r.id for r in records]))
        .order_by(MemberMinutes.member_id)
    )
    for row in rows:
        view = names.get(row.member_id)
        attendance[row.time_record_id].append(
            AttendanceRead(
                member_id=row.member_id,
                name=view.name if view else FORMER_MEMBER,
                minutes=row.minutes,
            )
        )
    return [
        from_row(
            TimeRecordRead,
            r,
            attendance=attendance[r.id],
            total_minutes=sum(a.minutes for a in attendance[r.id]),
        )
        for r in records
    ]


async def _load(session: AsyncSession, study_id: uuid.UUID, record_id: uuid.UUID) -> TimeRecord:
    return await scalar_or_raise(
        session,
        select(TimeRecord).where(TimeRecord.id == record_id, TimeRecord.study_id == study_id),
        TimeRecordNotFound,
    )


async def get_time_record(
    session: AsyncSession, study_id: uuid.UUID, record_id: uuid.UUID, *, principal: Principal
) -> TimeRecordRead:
    await get_access(session, study_id, principal=principal)
    return (await record_reads(session, [await _load(session, study_id, record_id)]))[0]


async def delete_time_record(
    session: AsyncSession, study_id: uuid.UUID, record_id: uuid.UUID, *, principal: Principal
) -> None:
    access = await get_access(session, study_id, principal=principal, write=True)
    ensure_open(access.study)
    record = await _load(session, study_id, record_id)
    await tombstones.delete_where(
        session, TimeRecord, TimeRecord.id == record.id, parent=TimeRecord.study_id
    )
