"""The post-lesson discussion. It must begin from the case pupils' evidence: a reflection on
each case pupil's learning comes before what to change, which comes before the next plan."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow, uuid7
from cpd_common.schemas import from_row
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.discussions.errors import (
    DiscussionAlreadyStarted,
    DiscussionNotFound,
    PupilsFirst,
)
from cpd_lessonstudy.discussions.schemas import DiscussionInput, DiscussionRead, ReflectionRead
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import Discussion, PupilReflection, ResearchLesson
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons.errors import InvalidLesson


async def _apply(
    session: AsyncSession,
    discussion: Discussion,
    lesson: ResearchLesson,
    data: DiscussionInput,
    *,
    member_id: uuid.UUID | None,
    fields: set[str],
) -> None:
    pupils = await case_pupils_service.case_pupils_of(session, lesson.study_id)
    known = {p.id for p in pupils}
    unknown = [
        {"loc": f"body.reflections.{i}.case_pupil_id", "msg": "not a case pupil of this study"}
        for i, r in enumerate(data.reflections)
        if r.case_pupil_id not in known
    ]
    if unknown:
        raise InvalidLesson("Unknown case pupil.", errors=unknown)
    if data.reflections:
        now = utcnow()
        stmt = insert(PupilReflection).values(
            [
                {
                    "id": uuid7(),
                    "trust_id": lesson.trust_id,
                    "discussion_id": discussion.id,
                    "case_pupil_id": r.case_pupil_id,
                    "learning": r.learning,
                    "recorded_by": member_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in data.reflections
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["discussion_id", "case_pupil_id"],
                set_={
                    "learning": stmt.excluded.learning,
                    "recorded_by": stmt.excluded.recorded_by,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )
    if "what_to_change" in fields and data.what_to_change:
        reflected = set(
            (
                await session.scalars(
                    select(PupilReflection.case_pupil_id).where(
                        PupilReflection.discussion_id == discussion.id
                    )
                )
            ).all()
        )
        missing = [p.label for p in pupils if p.id not in reflected]
        if missing:
            raise PupilsFirst(
                "Start from the pupils: record what the group learnt about each case pupil's "
                "learning before deciding what to change for the next lesson. Still without a "
                f"reflection: case pupil{'s' if len(missing) > 1 else ''} {', '.join(missing)}.",
                errors=[
                    {
                        "loc": "body.what_to_change",
                        "msg": f"reflect on case pupil {label} first",
                    }
                    for label in missing
                ],
            )
    if "what_to_change" in fields:
        if data.what_to_change != discussion.what_to_change:
            discussion.what_to_change_at = utcnow() if data.what_to_change else None
        discussion.what_to_change = data.what_to_change or None
    if "next_lesson_plan" in fields:
        discussion.next_lesson_plan = data.next_lesson_plan or None
    if discussion.next_lesson_plan and not discussion.what_to_change:
        raise PupilsFirst(
            "Agree what to change for the next lesson (from the pupils' evidence) before "
            "planning it.",
            errors=[{"loc": "body.next_lesson_plan", "msg": "agree what_to_change first"}],
        )
    discussion.updated_at = utcnow()
    await session.flush()


async def start_discussion(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: DiscussionInput,
) -> Discussion:
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    lessons_service.ensure_taught(lesson, "the post-lesson discussion is held")
    if await session.scalar(select(Discussion.id).where(Discussion.lesson_id == lesson.id)):
        raise DiscussionAlreadyStarted(
            "This lesson's discussion has already started: PATCH it to continue."
        )
    assert access.member is not None
    discussion = Discussion(
        lesson_id=lesson.id, trust_id=lesson.trust_id, started_by=access.member.id
    )
    session.add(discussion)
    await session.flush()
    await _apply(
        session, discussion, lesson, data, member_id=access.member.id, fields=data.model_fields_set
    )
    return discussion


async def _load(session: AsyncSession, lesson_id: uuid.UUID) -> Discussion:
    discussion = await session.scalar(select(Discussion).where(Discussion.lesson_id == lesson_id))
    if discussion is None:
        raise DiscussionNotFound("This lesson's post-lesson discussion has not started yet.")
    return discussion


async def get_discussion(
    session: AsyncSession, study_id: uuid.UUID, lesson_id: uuid.UUID, *, principal: Principal
) -> DiscussionRead:
    _, lesson = await lessons_service.lesson_for(session, study_id, lesson_id, principal=principal)
    return await discussion_read(session, lesson, await _load(session, lesson.id))


async def update_discussion(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: DiscussionInput,
) -> DiscussionRead:
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    lessons_service.ensure_taught(lesson, "the discussion is changed")
    discussion = await _load(session, lesson.id)
    await _apply(
        session, discussion, lesson, data, member_id=access.member_id, fields=data.model_fields_set
    )
    return await discussion_read(session, lesson, discussion)


async def discussion_read(
    session: AsyncSession, lesson: ResearchLesson, discussion: Discussion
) -> DiscussionRead:
    pupils = await case_pupils_service.case_pupils_of(session, lesson.study_id)
    names = await members_service.member_views(session, lesson.study_id)
    rows = {
        r.case_pupil_id: r
        for r in (
            await session.scalars(
                select(PupilReflection).where(PupilReflection.discussion_id == discussion.id)
            )
        ).all()
    }
    reflections = []
    for pupil in pupils:
        r = rows.get(pupil.id)
        if r is None:
            continue
        author = names.get(r.recorded_by) if r.recorded_by else None
        reflections.append(
            from_row(
                ReflectionRead,
                r,
                case_pupil_id=pupil.id,
                case_pupil_label=pupil.label,
                recorded_by_name=author.name if author else None,
            )
        )
    return from_row(
        DiscussionRead,
        discussion,
        lesson_id=lesson.id,
        cycle=lesson.cycle,
        reflections=reflections,
        pupils_without_reflection=[p.label for p in pupils if p.id not in rows],
        started_by_name=names[discussion.started_by].name,
    )
