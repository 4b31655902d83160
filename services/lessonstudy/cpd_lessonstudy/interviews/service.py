"""Pupil interviews after a research lesson: what pupils say about their learning."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_common.schemas import from_row
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.case_pupils.errors import CasePupilNotFound
from cpd_lessonstudy.interviews.errors import InterviewNotFound, NotYourInterview
from cpd_lessonstudy.interviews.schemas import InterviewCreate, InterviewRead, InterviewUpdate
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import PupilInterview
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons.errors import InvalidLesson


async def record_interview(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: InterviewCreate,
) -> PupilInterview:
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    lessons_service.ensure_taught(lesson, "pupils are interviewed")
    if data.case_pupil_id is not None:
        try:
            await case_pupils_service.load(session, study_id, data.case_pupil_id)
        except CasePupilNotFound as exc:
            raise InvalidLesson(
                "Unknown case pupil.",
                errors=[{"loc": "body.case_pupil_id", "msg": "not a case pupil of this study"}],
            ) from exc
    assert access.member is not None
    interview = PupilInterview(
        lesson_id=lesson.id,
        trust_id=lesson.trust_id,
        case_pupil_id=data.case_pupil_id,
        interviewer_member_id=access.member.id,
        notes=data.notes,
    )
    session.add(interview)
    await session.flush()
    return interview


def interviews_query(lesson_id: uuid.UUID) -> Select[PupilInterview]:
    return select(PupilInterview).where(PupilInterview.lesson_id == lesson_id)


async def interview_reads(
    session: AsyncSession, study_id: uuid.UUID, interviews: list[PupilInterview]
) -> list[InterviewRead]:
    if not interviews:
        return []
    names = await members_service.member_views(session, study_id)
    labels = await case_pupils_service.labels_of(session, study_id)
    return [
        from_row(
            InterviewRead,
            i,
            case_pupil_label=labels.get(i.case_pupil_id) if i.case_pupil_id else None,
            interviewer_name=names[i.interviewer_member_id].name,
        )
        for i in interviews
    ]


async def _load(
    session: AsyncSession, lesson_id: uuid.UUID, interview_id: uuid.UUID
) -> PupilInterview:
    return await scalar_or_raise(
        session,
        select(PupilInterview).where(
            PupilInterview.id == interview_id, PupilInterview.lesson_id == lesson_id
        ),
        InterviewNotFound,
    )


async def get_interview(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    interview_id: uuid.UUID,
    *,
    principal: Principal,
) -> InterviewRead:
    _, lesson = await lessons_service.lesson_for(session, study_id, lesson_id, principal=principal)
    return (
        await interview_reads(session, study_id, [await _load(session, lesson.id, interview_id)])
    )[0]


async def update_interview(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    interview_id: uuid.UUID,
    *,
    principal: Principal,
    data: InterviewUpdate,
) -> InterviewRead:
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    lessons_service.ensure_taught(lesson, "interview notes are changed")
    interview = await _load(session, lesson.id, interview_id)
    if interview.interviewer_member_id != access.member_id:
        raise NotYourInterview("Only the member who interviewed can change these notes.")
    interview.notes = data.notes
    await session.flush()
    return (await interview_reads(session, study_id, [interview]))[0]
