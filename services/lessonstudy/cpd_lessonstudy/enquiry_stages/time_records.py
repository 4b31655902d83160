"""Time members spent on an enquiry (minutes each, per session) and their hours: what
``lessonstudy.enquiry.completed`` carries to the evaluation service."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import known_ids
from cpd_lessonstudy.enquiries import service as enquiries
from cpd_lessonstudy.enquiries.errors import InvalidEnquiry
from cpd_lessonstudy.enquiry_stages import authoring
from cpd_lessonstudy.enquiry_stages import schemas as s
from cpd_lessonstudy.groups import members as group_members
from cpd_lessonstudy.groups.access import ENQUIRY, get_access
from cpd_lessonstudy.models.enquiries import EnquiryMember, EnquiryMemberMinutes, EnquiryTimeRecord


async def time_reads(
    session: AsyncSession, enquiry_id: uuid.UUID, rows: list[EnquiryTimeRecord]
) -> list[BaseModel]:
    names = await group_members.names_of(session, ENQUIRY, enquiry_id)
    minutes: dict[uuid.UUID, list[s.AttendanceRead]] = {r.id: [] for r in rows}
    if rows:
        for m in (
            await session.scalars(
                select(EnquiryMemberMinutes)
                .where(EnquiryMemberMinutes.time_record_id.in_(minutes))
                .order_by(EnquiryMemberMinutes.member_id)
            )
        ).all():
            minutes[m.time_record_id].append(
                s.AttendanceRead(
                    member_id=m.member_id, name=names.get(m.member_id, "Unknown"), minutes=m.minutes
                )
            )
    return [
        s.TimeRecordRead(
            id=r.id,
            enquiry_id=r.enquiry_id,
            kind=r.kind,
            held_on=r.held_on,
            description=r.description,
            attendance=minutes[r.id],
            **authoring.authored(r, names),
        )
        for r in rows
    ]


async def add_time_record(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal, data: s.TimeRecordCreate
) -> BaseModel:
    access = await authoring.writable(session, enquiry_id, principal)
    authoring.not_future(data.held_on, "held_on")
    ids = [a.member_id for a in data.attendance]
    known = await known_ids(session, EnquiryMember.id, ids, EnquiryMember.enquiry_id == enquiry_id)
    unknown = [i for i, member_id in enumerate(ids) if member_id not in known]
    if unknown:
        raise InvalidEnquiry(
            "Time is recorded for members of this enquiry (membership ids from .../members).",
            errors=[
                {"loc": f"body.attendance.{i}.member_id", "msg": "not a member"} for i in unknown
            ],
        )
    record = EnquiryTimeRecord(
        enquiry_id=enquiry_id,
        trust_id=access.group.trust_id,
        kind=data.kind,
        held_on=data.held_on,
        description=data.description,
        recorded_by=access.member_id,
    )
    session.add(record)
    await session.flush()
    for a in data.attendance:
        session.add(
            EnquiryMemberMinutes(
                time_record_id=record.id,
                member_id=a.member_id,
                trust_id=access.group.trust_id,
                minutes=a.minutes,
            )
        )
    await session.flush()
    return (await time_reads(session, enquiry_id, [record]))[0]


async def hours(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal
) -> s.EnquiryHours:
    await get_access(session, ENQUIRY, enquiry_id, principal=principal)
    names = await group_members.names_of(session, ENQUIRY, enquiry_id)
    spent = await enquiries.member_minutes(session, enquiry_id)
    members = [
        s.MemberHoursRead(
            member_id=m.id,
            person_id=m.person_id,
            name=names.get(m.id, "Unknown"),
            hours=round(minutes / 60, 2),
        )
        for m, minutes in spent
    ]
    total = sum(minutes for _, minutes in spent)
    return s.EnquiryHours(enquiry_id=enquiry_id, total_hours=round(total / 60, 2), members=members)
