"""Learning communities: creation, listing, changes, and the read model (status from the
period, the members' mix, cycles and meetings)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.schemas import from_row
from cpd_lessonstudy.communities.errors import InvalidCommunity
from cpd_lessonstudy.communities.schemas import (
    CommunityCreate,
    CommunityRead,
    CommunityUpdate,
    Mix,
    period_problem,
)
from cpd_lessonstudy.enquiries.errors import IllegalTransition
from cpd_lessonstudy.groups import members as group_members
from cpd_lessonstudy.groups.access import COMMUNITY, get_access, visible_to
from cpd_lessonstudy.groups.access import audience as group_audience
from cpd_lessonstudy.groups.errors import CannotCreateGroup
from cpd_lessonstudy.groups.scope import check_needs, check_schools
from cpd_lessonstudy.models.communities import (
    CommunityActivity,
    CommunityMeeting,
    CommunityMember,
    LearningCommunity,
)
from cpd_lessonstudy.studies.access import STUDY_ROLES


def today() -> date:
    return datetime.now(UTC).date()


def status_of_dates(starts_on: date, ends_on: date, on: date) -> str:
    if on < starts_on:
        return "forming"
    return "running" if on <= ends_on else "ended"


def status_of(community: LearningCommunity, on: date | None = None) -> str:
    return status_of_dates(community.starts_on, community.ends_on, on or today())


async def create_community(
    session: AsyncSession, *, principal: Principal, data: CommunityCreate
) -> LearningCommunity:
    if principal.person_id is None or not principal.has_any(*STUDY_ROLES):
        raise CannotCreateGroup(
            "Learning communities are created by staff, school leaders and trust admins."
        )
    await check_schools(session, data.school_ids, principal=principal, noun="learning community")
    await check_needs(session, data.need_ids, trust_id=principal.trust_id)
    community = LearningCommunity(
        trust_id=principal.trust_id,
        name=data.name,
        school_ids=data.school_ids,
        learning_priority=data.learning_priority,
        need_ids=data.need_ids,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        membership_design=data.membership_design,
        created_by=principal.person_id,
    )
    session.add(community)
    await session.flush()
    await group_members.add_founding_members(
        session,
        COMMUNITY,
        group=community,
        principal=principal,
        coordinator_id=data.coordinator_id,
        member_ids=data.member_ids,
    )
    return community


def list_query(
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    status: str | None = None,
    member: uuid.UUID | None = None,
) -> Select[LearningCommunity]:
    stmt = select(LearningCommunity).where(
        LearningCommunity.trust_id == principal.trust_id, visible_to(COMMUNITY, principal)
    )
    if school_id is not None:
        stmt = stmt.where(LearningCommunity.school_ids.contains([school_id]))
    on = today()
    if status == "forming":
        stmt = stmt.where(LearningCommunity.starts_on > on)
    elif status == "running":
        stmt = stmt.where(LearningCommunity.starts_on <= on, LearningCommunity.ends_on >= on)
    elif status == "ended":
        stmt = stmt.where(LearningCommunity.ends_on < on)
    if member is not None:
        stmt = stmt.where(
            exists().where(
                CommunityMember.community_id == LearningCommunity.id,
                CommunityMember.person_id == member,
            )
        )
    return stmt


async def get_community(
    session: AsyncSession, community_id: uuid.UUID, *, principal: Principal
) -> LearningCommunity:
    return (await get_access(session, COMMUNITY, community_id, principal=principal)).group


async def update_community(
    session: AsyncSession,
    community_id: uuid.UUID,
    *,
    principal: Principal,
    data: CommunityUpdate,
) -> LearningCommunity:
    community = (
        await get_access(session, COMMUNITY, community_id, principal=principal, write=True)
    ).group
    changes = data.model_dump(exclude_unset=True)
    if "school_ids" in changes and set(changes["school_ids"]) != set(community.school_ids):
        await check_schools(
            session, changes["school_ids"], principal=principal, noun="learning community"
        )
    if "need_ids" in changes:
        await check_needs(session, changes["need_ids"], trust_id=community.trust_id)
    starts = changes.get("starts_on", community.starts_on)
    ends = changes.get("ends_on", community.ends_on)
    problem = period_problem(starts, ends)
    if problem:
        raise InvalidCommunity(
            "A learning community works for a fixed period of half a term to a year.",
            errors=[{"loc": "body.ends_on", "msg": problem}],
        )
    outside = await session.scalar(
        select(func.count()).where(
            CommunityMeeting.community_id == community.id,
            (CommunityMeeting.held_on < starts) | (CommunityMeeting.held_on > ends),
        )
    )
    if outside:
        raise InvalidCommunity(
            f"{outside} meeting(s) already held would fall outside the new period.",
            errors=[{"loc": "body.starts_on", "msg": "meetings outside the period"}],
        )
    for name, value in changes.items():
        setattr(community, name, value)
    await session.flush()
    return community


async def delete_community(
    session: AsyncSession, community_id: uuid.UUID, *, principal: Principal
) -> None:
    """Only before it has met or taken on work: afterwards it is a record."""
    community = (
        await get_access(session, COMMUNITY, community_id, principal=principal, write=True)
    ).group
    used = await session.scalar(
        select(
            exists().where(CommunityMeeting.community_id == community.id)
            | exists().where(CommunityActivity.community_id == community.id)
        )
    )
    if used:
        raise IllegalTransition(
            "The community has met or runs enquiries, lesson studies or coaching: it is a record "
            "and cannot be deleted."
        )
    await tombstones.delete_where(
        session,
        LearningCommunity,
        LearningCommunity.id == community.id,
        visible_to=await group_audience(session, COMMUNITY, community),
    )


# ---- read model -------------------------------------------------------------------------------

# How mixed the current members are: distinct schools and departments (directory projection).
MIX = """
SELECT cm.community_id, count(DISTINCT s.school_id), count(DISTINCT p.department)
FROM community_members cm
JOIN people p ON p.id = cm.person_id
LEFT JOIN LATERAL unnest(p.school_ids) AS s(school_id) ON true
WHERE cm.community_id = ANY(CAST(:ids AS uuid[]))
GROUP BY cm.community_id
"""


async def community_reads(
    session: AsyncSession, communities: Sequence[LearningCommunity]
) -> list[CommunityRead]:
    ids = [c.id for c in communities]
    members = await group_members.members_of(session, COMMUNITY, ids)
    meetings: dict[uuid.UUID, tuple[int, date | None, int]] = {}
    cycles: dict[uuid.UUID, int] = {}
    mix: dict[uuid.UUID, tuple[int, int]] = {}
    if ids:
        meetings = {
            r[0]: (int(r[1]), r[2], int(r[3] or 0))
            for r in (
                await session.execute(
                    select(
                        CommunityMeeting.community_id,
                        func.count(),
                        func.max(CommunityMeeting.held_on),
                        func.max(CommunityMeeting.cycle),
                    )
                    .where(CommunityMeeting.community_id.in_(ids))
                    .group_by(CommunityMeeting.community_id)
                )
            ).all()
        }
        cycles = {
            r[0]: int(r[1] or 0)
            for r in (
                await session.execute(
                    select(CommunityActivity.community_id, func.max(CommunityActivity.cycle))
                    .where(CommunityActivity.community_id.in_(ids))
                    .group_by(CommunityActivity.community_id)
                )
            ).all()
        }
        mix = {
            r[0]: (int(r[1]), int(r[2]))
            for r in (await session.execute(text(MIX), {"ids": ids})).all()
        }
    out = []
    for c in communities:
        n_meetings, last_met, meeting_cycle = meetings.get(c.id, (0, None, 0))
        schools, departments = mix.get(c.id, (0, 0))
        out.append(
            from_row(
                CommunityRead,
                c,
                school_ids=list(c.school_ids),
                need_ids=list(c.need_ids),
                status=status_of(c),
                members=members[c.id],
                mix=Mix(schools=schools, departments=departments),
                cycles=max(meeting_cycle, cycles.get(c.id, 0)),
                meetings_held=n_meetings,
                last_met_on=last_met,
            )
        )
    return out


async def community_read(session: AsyncSession, community: LearningCommunity) -> CommunityRead:
    return (await community_reads(session, [community]))[0]
