"""What a learning community does: its meetings (which publish
``lessonstudy.community.meeting_held`` with each attendee's hours), the enquiries, lesson
studies and peer-coaching pairs it runs in each cycle, and the work it shares with colleagues."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_common.events import catalogue
from cpd_common.schemas import from_row
from cpd_lessonstudy.communities import schemas as s
from cpd_lessonstudy.communities.errors import (
    AlreadyLinked,
    CommunityRecordNotFound,
    InvalidCommunity,
)
from cpd_lessonstudy.communities.service import today
from cpd_lessonstudy.enquiries import service as enquiries
from cpd_lessonstudy.groups import members as group_members
from cpd_lessonstudy.groups.access import COMMUNITY, ENQUIRY, get_access
from cpd_lessonstudy.models import LessonStudy
from cpd_lessonstudy.models.communities import (
    CommunityActivity,
    CommunityAttendance,
    CommunityMeeting,
    CommunityMember,
    CommunityShare,
)
from cpd_lessonstudy.models.enquiries import Enquiry
from cpd_lessonstudy.studies.access import get_access as study_access

Names = dict[uuid.UUID, str]


def _by(obj: Any, names: Names) -> dict[str, Any]:
    rid = obj.recorded_by
    return {
        "recorded_by": rid,
        "recorded_by_name": names.get(rid, "Unknown") if rid is not None else None,
        "created_at": obj.created_at,
    }


async def _member_ids(
    session: AsyncSession, community_id: uuid.UUID, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    return set(
        (
            await session.scalars(
                select(CommunityMember.id).where(
                    CommunityMember.community_id == community_id, CommunityMember.id.in_(ids)
                )
            )
        ).all()
    )


async def _load(
    session: AsyncSession, model: type[Any], community_id: uuid.UUID, record_id: uuid.UUID
) -> Any:
    return await scalar_or_raise(
        session,
        select(model).where(model.id == record_id, model.community_id == community_id),
        CommunityRecordNotFound,
    )


# ---- meetings ---------------------------------------------------------------------------------


async def meeting_reads(
    session: AsyncSession, community_id: uuid.UUID, rows: list[CommunityMeeting]
) -> list[s.MeetingRead]:
    names = await group_members.names_of(session, COMMUNITY, community_id)
    came: dict[uuid.UUID, list[s.Attendee]] = {r.id: [] for r in rows}
    if rows:
        for a in (
            await session.scalars(
                select(CommunityAttendance)
                .where(CommunityAttendance.meeting_id.in_(came))
                .order_by(CommunityAttendance.member_id)
            )
        ).all():
            came[a.meeting_id].append(
                s.Attendee(member_id=a.member_id, name=names.get(a.member_id, "Unknown"))
            )
    return [
        s.MeetingRead(
            id=r.id,
            community_id=r.community_id,
            held_on=r.held_on,
            duration_minutes=r.duration_minutes,
            hours=round(r.duration_minutes / 60, 2),
            cycle=r.cycle,
            minutes=r.minutes_text,
            shared=r.shared,
            attendance=came[r.id],
            **_by(r, names),
        )
        for r in rows
    ]


async def hold_meeting(
    session: AsyncSession,
    community_id: uuid.UUID,
    *,
    principal: Principal,
    data: s.MeetingCreate,
) -> s.MeetingRead:
    access = await get_access(session, COMMUNITY, community_id, principal=principal, write=True)
    community = access.group
    if data.held_on > today():
        raise InvalidCommunity(
            "Record a meeting once it has been held.",
            errors=[{"loc": "body.held_on", "msg": "must not be in the future"}],
        )
    if not community.starts_on <= data.held_on <= community.ends_on:
        raise InvalidCommunity(
            f"The community runs from {community.starts_on} to {community.ends_on}; a meeting "
            "outside that period is not one of its meetings.",
            errors=[{"loc": "body.held_on", "msg": "outside the community's period"}],
        )
    known = await _member_ids(session, community.id, data.attended)
    unknown = [i for i, m in enumerate(data.attended) if m not in known]
    if unknown:
        raise InvalidCommunity(
            "Attendance lists members of this community (membership ids from .../members).",
            errors=[{"loc": f"body.attended.{i}", "msg": "not a member"} for i in unknown],
        )
    meeting = CommunityMeeting(
        community_id=community.id,
        trust_id=community.trust_id,
        held_on=data.held_on,
        duration_minutes=data.duration_minutes,
        cycle=data.cycle,
        minutes_text=data.minutes,
        shared=data.shared,
        recorded_by=access.member_id,
    )
    session.add(meeting)
    await session.flush()
    for member_id in data.attended:
        session.add(
            CommunityAttendance(
                meeting_id=meeting.id, member_id=member_id, trust_id=community.trust_id
            )
        )
    await session.flush()
    people = dict(
        (
            await session.execute(
                select(CommunityMember.id, CommunityMember.person_id).where(
                    CommunityMember.id.in_(data.attended)
                )
            )
        ).all()
    )
    hours = round(data.duration_minutes / 60, 2)
    events.add(
        session,
        catalogue.CommunityMeetingHeld(
            community_id=community.id,
            meeting_id=meeting.id,
            trust_id=community.trust_id,
            school_ids=list(community.school_ids),
            name=community.name,
            held_on=meeting.held_on,
            cycle=meeting.cycle,
            hours=[catalogue.MemberHours(person_id=people[m], hours=hours) for m in data.attended],
        ),
    )
    return (await meeting_reads(session, community.id, [meeting]))[0]


async def update_meeting(
    session: AsyncSession,
    community_id: uuid.UUID,
    meeting_id: uuid.UUID,
    *,
    principal: Principal,
    data: s.MeetingUpdate,
) -> s.MeetingRead:
    """The minutes and what was shared can be completed later; the date, length and attendance
    went out with the event and stay."""
    await get_access(session, COMMUNITY, community_id, principal=principal, write=True)
    meeting = await _load(session, CommunityMeeting, community_id, meeting_id)
    changes = data.model_dump(exclude_unset=True)
    if "minutes" in changes:
        meeting.minutes_text = changes["minutes"]
    if "shared" in changes:
        meeting.shared = changes["shared"]
    meeting.updated_at = datetime.now(UTC)
    await session.flush()
    return (await meeting_reads(session, community_id, [meeting]))[0]


# ---- activities -------------------------------------------------------------------------------


async def activity_reads(
    session: AsyncSession, community_id: uuid.UUID, rows: list[CommunityActivity]
) -> list[s.ActivityRead]:
    names = await group_members.names_of(session, COMMUNITY, community_id)
    enquiry_ids = [r.enquiry_id for r in rows if r.enquiry_id is not None]
    study_ids = [r.lesson_study_id for r in rows if r.lesson_study_id is not None]
    titles: dict[uuid.UUID, tuple[str, str]] = {}
    if enquiry_ids:
        found = list(
            (await session.scalars(select(Enquiry).where(Enquiry.id.in_(enquiry_ids)))).all()
        )
        for read in await enquiries.enquiry_reads(session, found):
            titles[read.id] = (read.title, read.stage)
    if study_ids:
        for sid, study_title, status in (
            await session.execute(
                select(LessonStudy.id, LessonStudy.title, LessonStudy.status).where(
                    LessonStudy.id.in_(study_ids)
                )
            )
        ).all():
            titles[sid] = (study_title, status)
    out = []
    for r in rows:
        linked = r.enquiry_id or r.lesson_study_id
        title: str | None = None
        progress: str | None = None
        if linked is not None and linked in titles:
            title, progress = titles[linked]
        out.append(
            from_row(
                s.ActivityRead,
                r,
                title=title,
                progress=progress,
                coach_name=names.get(r.coach_member_id) if r.coach_member_id else None,
                coachee_name=names.get(r.coachee_member_id) if r.coachee_member_id else None,
            )
        )
    return out


async def add_activity(
    session: AsyncSession,
    community_id: uuid.UUID,
    *,
    principal: Principal,
    data: s.ActivityCreate,
) -> s.ActivityRead:
    """Links an enquiry the caller belongs to or a lesson study the caller can see (of the same
    trust; 404 as usual otherwise), or pairs two members for peer coaching, in one of the
    community's cycles."""
    access = await get_access(session, COMMUNITY, community_id, principal=principal, write=True)
    community = access.group
    activity = CommunityActivity(
        community_id=community.id,
        trust_id=community.trust_id,
        kind=data.kind,
        cycle=data.cycle,
        focus=data.focus,
    )
    if data.enquiry_id is not None:
        # Linking changes the enquiry (its community and cycle): its members only.
        enquiry = (
            await get_access(session, ENQUIRY, data.enquiry_id, principal=principal, write=True)
        ).group
        if enquiry.community_id is not None and enquiry.community_id != community.id:
            raise AlreadyLinked("This enquiry is already run by another learning community.")
        activity.enquiry_id = enquiry.id
        enquiry.community_id, enquiry.community_cycle = community.id, data.cycle
    elif data.lesson_study_id is not None:
        study = (await study_access(session, data.lesson_study_id, principal=principal)).study
        activity.lesson_study_id = study.id
    else:
        pair = [m for m in (data.coach_member_id, data.coachee_member_id) if m is not None]
        known = await _member_ids(session, community.id, pair)
        if len(known) != 2:
            raise InvalidCommunity(
                "Peer coaching pairs two members of this community (membership ids).",
                errors=[{"loc": "body.coach_member_id", "msg": "not members of the community"}],
            )
        activity.coach_member_id, activity.coachee_member_id = pair
    try:
        async with session.begin_nested():
            session.add(activity)
            await session.flush()
    except IntegrityError:
        raise AlreadyLinked(
            "This enquiry or lesson study is already one of a learning community's activities."
        ) from None
    return (await activity_reads(session, community.id, [activity]))[0]


async def remove_activity(
    session: AsyncSession, community_id: uuid.UUID, activity_id: uuid.UUID, *, principal: Principal
) -> None:
    await get_access(session, COMMUNITY, community_id, principal=principal, write=True)
    activity = await _load(session, CommunityActivity, community_id, activity_id)
    if activity.enquiry_id is not None:
        enquiry = await session.get(Enquiry, activity.enquiry_id)
        if enquiry is not None and enquiry.community_id == community_id:
            enquiry.community_id, enquiry.community_cycle = None, None
    await tombstones.delete_where(
        session,
        CommunityActivity,
        CommunityActivity.id == activity.id,
        parent=CommunityActivity.community_id,
    )


# ---- shared work ------------------------------------------------------------------------------


def share_read(r: CommunityShare, names: Names) -> s.ShareRead:
    return s.ShareRead(
        id=r.id,
        community_id=r.community_id,
        kind=r.kind,
        shared_on=r.shared_on,
        title=r.title,
        audience=r.audience,
        description=r.description,
        reference=r.reference,
        **_by(r, names),
    )


async def add_share(
    session: AsyncSession, community_id: uuid.UUID, *, principal: Principal, data: s.ShareCreate
) -> s.ShareRead:
    access = await get_access(session, COMMUNITY, community_id, principal=principal, write=True)
    if data.shared_on > today():
        raise InvalidCommunity(
            "Record what has been shared.",
            errors=[{"loc": "body.shared_on", "msg": "must not be in the future"}],
        )
    share = CommunityShare(
        community_id=community_id,
        trust_id=access.group.trust_id,
        kind=data.kind,
        shared_on=data.shared_on,
        title=data.title,
        audience=data.audience,
        description=data.description,
        reference=data.reference,
        recorded_by=access.member_id,
    )
    session.add(share)
    await session.flush()
    return share_read(share, await group_members.names_of(session, COMMUNITY, community_id))


# ---- reading ----------------------------------------------------------------------------------


async def reads(
    session: AsyncSession, model: type[Any], community_id: uuid.UUID, rows: list[Any]
) -> list[Any]:
    if model is CommunityMeeting:
        return await meeting_reads(session, community_id, rows)
    if model is CommunityActivity:
        return await activity_reads(session, community_id, rows)
    names = await group_members.names_of(session, COMMUNITY, community_id)
    return [share_read(r, names) for r in rows]


async def get_one(
    session: AsyncSession,
    model: type[Any],
    community_id: uuid.UUID,
    record_id: uuid.UUID,
    *,
    principal: Principal,
) -> Any:
    await get_access(session, COMMUNITY, community_id, principal=principal)
    return (
        await reads(
            session, model, community_id, [await _load(session, model, community_id, record_id)]
        )
    )[0]
