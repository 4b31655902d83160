"""Classroom action enquiries: creation, listing, changes, the question check, starting and
completing, the stages reached and the next step."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, tombstones
from cpd_common.auth import Principal
from cpd_common.db import utcnow, where_given
from cpd_common.events import catalogue
from cpd_common.schemas import from_row
from cpd_lessonstudy.enquiries import question as question_rules
from cpd_lessonstudy.enquiries.errors import EnquiryClosed, IllegalTransition, InvalidEnquiry
from cpd_lessonstudy.enquiries.schemas import (
    EnquiryCreate,
    EnquiryRead,
    EnquiryUpdate,
    QuestionCheck,
    QuestionDraft,
    QuestionUpdate,
    Stage,
)
from cpd_lessonstudy.enquiries.stages import Progress, ensure_stage, progress_of
from cpd_lessonstudy.groups import members as group_members
from cpd_lessonstudy.groups.access import ENQUIRY, get_access, visible_to
from cpd_lessonstudy.groups.access import audience as group_audience
from cpd_lessonstudy.groups.errors import CannotCreateGroup
from cpd_lessonstudy.groups.scope import check_needs, check_schools
from cpd_lessonstudy.models.enquiries import (
    Enquiry,
    EnquiryFinding,
    EnquiryMember,
    EnquiryMemberMinutes,
    EnquiryQuestionAnswer,
    EnquiryReplication,
    EnquiryTimeRecord,
)
from cpd_lessonstudy.studies.access import STUDY_ROLES


def ensure_open(enquiry: Enquiry) -> None:
    """A completed enquiry is a record: its content no longer changes."""
    if enquiry.status == "completed":
        raise EnquiryClosed("The enquiry is completed; its record can no longer be changed.")


async def create_enquiry(
    session: AsyncSession, *, principal: Principal, data: EnquiryCreate
) -> Enquiry:
    """Creates an enquiry in planning. The creator joins (as coordinator unless someone else
    is named): only members can change an enquiry."""
    if principal.person_id is None or not principal.has_any(*STUDY_ROLES):
        raise CannotCreateGroup("Enquiries are created by staff, school leaders and trust admins.")
    await check_schools(session, data.school_ids, principal=principal, noun="enquiry")
    await check_needs(session, data.need_ids, trust_id=principal.trust_id)
    if data.replicates_enquiry_id is not None:
        original = (
            await get_access(session, ENQUIRY, data.replicates_enquiry_id, principal=principal)
        ).group
        await ensure_stage(session, original, "replication", "replicate it")
    enquiry = Enquiry(
        trust_id=principal.trust_id,
        title=data.title,
        school_ids=data.school_ids,
        subject=data.subject,
        pupil_group=data.pupil_group,
        question=data.question,
        planned_approach=data.planned_approach,
        need_ids=data.need_ids,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        status="planning",
        replicates_id=data.replicates_enquiry_id,
        created_by=principal.person_id,
    )
    session.add(enquiry)
    await session.flush()
    await group_members.add_founding_members(
        session,
        ENQUIRY,
        group=enquiry,
        principal=principal,
        coordinator_id=data.coordinator_id,
        member_ids=data.member_ids,
    )
    if data.replicates_enquiry_id is not None:
        session.add(
            EnquiryReplication(
                trust_id=enquiry.trust_id,
                enquiry_id=data.replicates_enquiry_id,
                follow_up_id=enquiry.id,
                conclusions_held="pending",
            )
        )
        await session.flush()
    return enquiry


def list_query(
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    status: str | None = None,
    member: uuid.UUID | None = None,
    community_id: uuid.UUID | None = None,
) -> Select[Enquiry]:
    stmt = select(Enquiry).where(
        Enquiry.trust_id == principal.trust_id, visible_to(ENQUIRY, principal)
    )
    if school_id is not None:
        stmt = stmt.where(Enquiry.school_ids.contains([school_id]))
    stmt = where_given(stmt, (Enquiry.status, status), (Enquiry.community_id, community_id))
    if member is not None:
        stmt = stmt.where(
            exists().where(
                EnquiryMember.enquiry_id == Enquiry.id, EnquiryMember.person_id == member
            )
        )
    return stmt


async def get_enquiry(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal
) -> Enquiry:
    return (await get_access(session, ENQUIRY, enquiry_id, principal=principal)).group


async def update_enquiry(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal, data: EnquiryUpdate
) -> Enquiry:
    enquiry = (
        await get_access(session, ENQUIRY, enquiry_id, principal=principal, write=True)
    ).group
    ensure_open(enquiry)
    changes = data.model_dump(exclude_unset=True)
    if "school_ids" in changes and set(changes["school_ids"]) != set(enquiry.school_ids):
        if enquiry.status != "planning":
            raise IllegalTransition(
                "The enquiry's schools can only change while its question is being framed."
            )
        await check_schools(session, changes["school_ids"], principal=principal, noun="enquiry")
    if "need_ids" in changes:
        await check_needs(session, changes["need_ids"], trust_id=enquiry.trust_id)
    starts = changes.get("starts_on", enquiry.starts_on)
    ends = changes.get("ends_on", enquiry.ends_on)
    if starts is not None and ends is not None and ends < starts:
        raise InvalidEnquiry(
            "The enquiry cannot end before it starts.",
            errors=[{"loc": "body.ends_on", "msg": "must not be before starts_on"}],
        )
    for name, value in changes.items():
        setattr(enquiry, name, value)
    await session.flush()
    return enquiry


async def delete_enquiry(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal
) -> None:
    """Only while planning: once data collection began, the enquiry is a record."""
    enquiry = (
        await get_access(session, ENQUIRY, enquiry_id, principal=principal, write=True)
    ).group
    if enquiry.status != "planning":
        raise IllegalTransition(
            "Only an enquiry still being planned can be deleted; a started one is a record "
            "(complete it instead)."
        )
    await tombstones.delete_where(
        session,
        Enquiry,
        Enquiry.id == enquiry.id,
        visible_to=await group_audience(session, ENQUIRY, enquiry),
    )


# ---- the question ---------------------------------------------------------------------------


async def _answers(
    session: AsyncSession, enquiry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[int, tuple[str, str | None]]]:
    out: dict[uuid.UUID, dict[int, tuple[str, str | None]]] = {i: {} for i in enquiry_ids}
    if enquiry_ids:
        rows = await session.scalars(
            select(EnquiryQuestionAnswer).where(EnquiryQuestionAnswer.enquiry_id.in_(enquiry_ids))
        )
        for a in rows:
            out[a.enquiry_id][a.rule] = (a.answer, a.note)
    return out


def _draft(enquiry: Enquiry) -> question_rules.Draft:
    return question_rules.Draft(
        question=enquiry.question,
        pupil_group=enquiry.pupil_group,
        subject=enquiry.subject,
        planned_approach=enquiry.planned_approach,
    )


async def question_check(session: AsyncSession, enquiry: Enquiry) -> QuestionCheck:
    answers = (await _answers(session, [enquiry.id]))[enquiry.id]
    return question_rules.check(_draft(enquiry), answers)


def draft_check(data: QuestionDraft) -> QuestionCheck:
    return question_rules.check(
        question_rules.Draft(
            question=data.question,
            pupil_group=data.pupil_group,
            subject=data.subject,
            planned_approach=data.planned_approach,
        ),
        {},
    )


async def update_question(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal, data: QuestionUpdate
) -> QuestionCheck:
    enquiry = (
        await get_access(session, ENQUIRY, enquiry_id, principal=principal, write=True)
    ).group
    ensure_open(enquiry)
    if data.question is not None:
        enquiry.question = data.question
    current = {
        a.rule: a
        for a in (
            await session.scalars(
                select(EnquiryQuestionAnswer).where(EnquiryQuestionAnswer.enquiry_id == enquiry.id)
            )
        ).all()
    }
    for a in data.answers:
        row = current.get(a.rule)
        if row is None:
            session.add(
                EnquiryQuestionAnswer(
                    enquiry_id=enquiry.id,
                    trust_id=enquiry.trust_id,
                    rule=a.rule,
                    answer=a.answer,
                    note=a.note,
                )
            )
        else:
            row.answer, row.note = a.answer, a.note
    enquiry.updated_at = utcnow()
    await session.flush()
    return await question_check(session, enquiry)


# ---- stages ---------------------------------------------------------------------------------


async def start_enquiry(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal
) -> Enquiry:
    """planning -> active (data collection begins). Publishes ``lessonstudy.enquiry.started``.
    The question check is guidance: an enquiry may start with rules unmet."""
    enquiry = (
        await get_access(session, ENQUIRY, enquiry_id, principal=principal, write=True)
    ).group
    if enquiry.status != "planning":
        raise IllegalTransition(
            f"The enquiry is already {enquiry.status}; only an enquiry being planned can start."
        )
    members = (await group_members.members_of(session, ENQUIRY, [enquiry.id]))[enquiry.id]
    active = [m for m in members if not m.former_member]
    if not any(m.role == "coordinator" for m in active):
        raise IllegalTransition(
            "The enquiry cannot start without a coordinator: make one member the coordinator.",
            errors=[{"loc": "members", "msg": "no coordinator"}],
        )
    enquiry.status = "active"
    enquiry.started_at = utcnow()
    if enquiry.starts_on is None:
        enquiry.starts_on = enquiry.started_at.date()
    await session.flush()
    events.add(
        session,
        catalogue.EnquiryStarted(
            enquiry_id=enquiry.id,
            trust_id=enquiry.trust_id,
            school_ids=list(enquiry.school_ids),
            title=enquiry.title,
            subject=enquiry.subject,
            question=enquiry.question,
            members=[catalogue.EnquiryMember(person_id=m.person_id, role=m.role) for m in active],
            need_ids=list(enquiry.need_ids),
            community_id=enquiry.community_id,
            replicates_enquiry_id=enquiry.replicates_id,
            starts_on=enquiry.starts_on,
            ends_on=enquiry.ends_on,
        ),
    )
    return enquiry


async def member_minutes(
    session: AsyncSession, enquiry_id: uuid.UUID
) -> list[tuple[EnquiryMember, int]]:
    """Every member's minutes on the enquiry (0 when none), in joining order."""
    spent = (
        select(EnquiryMemberMinutes.member_id, func.sum(EnquiryMemberMinutes.minutes).label("m"))
        .join(EnquiryTimeRecord, EnquiryTimeRecord.id == EnquiryMemberMinutes.time_record_id)
        .where(EnquiryTimeRecord.enquiry_id == enquiry_id)
        .group_by(EnquiryMemberMinutes.member_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(EnquiryMember, func.coalesce(spent.c.m, 0))
            .outerjoin(spent, spent.c.member_id == EnquiryMember.id)
            .where(EnquiryMember.enquiry_id == enquiry_id)
            .order_by(EnquiryMember.id)
        )
    ).all()
    return [(m, int(minutes)) for m, minutes in rows]


async def complete_enquiry(
    session: AsyncSession, enquiry_id: uuid.UUID, *, principal: Principal
) -> Enquiry:
    """active -> completed, once the data has been analysed. Publishes
    ``lessonstudy.enquiry.completed`` with the stages reached and each member's hours."""
    enquiry = (
        await get_access(session, ENQUIRY, enquiry_id, principal=principal, write=True)
    ).group
    if enquiry.status != "active":
        raise IllegalTransition(
            f"The enquiry is {enquiry.status}; only an active enquiry can be completed."
        )
    await ensure_stage(session, enquiry, "reporting", "complete the enquiry")
    enquiry.status = "completed"
    enquiry.completed_at = utcnow()
    await session.flush()
    reached = (await progress_of(session, [enquiry.id]))[enquiry.id].reached()
    findings = list(
        (
            await session.scalars(
                select(EnquiryFinding.statement)
                .where(EnquiryFinding.enquiry_id == enquiry.id)
                .order_by(EnquiryFinding.id)
            )
        ).all()
    )
    events.add(
        session,
        catalogue.EnquiryCompleted(
            enquiry_id=enquiry.id,
            trust_id=enquiry.trust_id,
            school_ids=list(enquiry.school_ids),
            title=enquiry.title,
            subject=enquiry.subject,
            stages_reached=reached,
            findings=findings,
            replicates_enquiry_id=enquiry.replicates_id,
            community_id=enquiry.community_id,
            completed_on=enquiry.completed_at.date(),
            hours=[
                catalogue.MemberHours(person_id=m.person_id, hours=round(minutes / 60, 2))
                for m, minutes in await member_minutes(session, enquiry.id)
            ],
        ),
    )
    return enquiry


# ---- read model -----------------------------------------------------------------------------


def stage_of(enquiry: Enquiry, reached: list[Stage]) -> str:
    return "completed" if enquiry.status == "completed" else reached[-1]


def next_step(enquiry: Enquiry, p: Progress, unmet: list[int]) -> str | None:
    if enquiry.status == "planning":
        if unmet:
            return (
                "Sharpen the question: rules "
                + ", ".join(str(r) for r in unmet)
                + " of the question check are not met yet (GET .../question); then start "
                "the enquiry (POST .../start)."
            )
        return "Start the enquiry (POST .../start) and begin collecting data."
    if enquiry.status == "active":
        if p.data_entries == 0:
            return (
                "Collect data: book samples, observations or learning walks first, then "
                "questionnaires or interviews (POST .../data)."
            )
        if p.findings == 0:
            return (
                "Analyse the data: record findings with the data they rest on (POST .../findings)."
            )
        if p.validity_checks == 0:
            return (
                "Check validity: ask colleagues to interpret the data and check that the counts "
                "tally with your conclusions (POST .../validity-checks)."
            )
        if p.disseminations == 0:
            return "Report the enquiry to colleagues and pupils (POST .../disseminations)."
        return "Complete the enquiry (POST .../complete); consider a replicate enquiry."
    if p.replications == 0:
        return (
            "Consider a replicate enquiry (POST /v1/enquiries with replicates_enquiry_id) to "
            "see whether the conclusions hold."
        )
    return None


async def enquiry_reads(session: AsyncSession, enquiries: Sequence[Enquiry]) -> list[EnquiryRead]:
    ids = [e.id for e in enquiries]
    members = await group_members.members_of(session, ENQUIRY, ids)
    progress = await progress_of(session, ids)
    answers = await _answers(session, ids)
    followers: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if ids:
        for original, follow_up in (
            await session.execute(
                select(EnquiryReplication.enquiry_id, EnquiryReplication.follow_up_id)
                .where(EnquiryReplication.enquiry_id.in_(ids))
                .order_by(EnquiryReplication.id)
            )
        ).all():
            followers[original].append(follow_up)
    out = []
    for e in enquiries:
        p = progress.get(e.id, Progress())
        reached = p.reached()
        checked = question_rules.check(_draft(e), answers[e.id])
        unmet = checked.unmet
        out.append(
            from_row(
                EnquiryRead,
                e,
                school_ids=list(e.school_ids),
                need_ids=list(e.need_ids),
                stage=stage_of(e, reached),
                stages_reached=reached,
                question_rules_unmet=unmet,
                question_check=checked,
                replicates_enquiry_id=e.replicates_id,
                replicated_by=followers[e.id],
                members=members[e.id],
                next_step=next_step(e, p, unmet),
            )
        )
    return out


async def enquiry_read(session: AsyncSession, enquiry: Enquiry) -> EnquiryRead:
    return (await enquiry_reads(session, [enquiry]))[0]
