"""Gathers everything the written-up report needs, in one place, for the renderers."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.findings import service as findings_service
from cpd_lessonstudy.findings.schemas import FindingsRead
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.members.schemas import MemberRead
from cpd_lessonstudy.models import (
    CasePupil,
    Discussion,
    LessonStage,
    LessonStudy,
    Observation,
    OpenHouseLesson,
    Prediction,
    PupilInterview,
    PupilReflection,
    ResearchLesson,
    School,
)
from cpd_lessonstudy.process_health import service as process_health_service
from cpd_lessonstudy.process_health.schemas import StudyHealth
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.research_lessons import teaching as lesson_teaching
from cpd_lessonstudy.studies.access import get_access
from cpd_lessonstudy.time_records import service as time_service
from cpd_lessonstudy.time_records.schemas import StudyHours

Cell = tuple[uuid.UUID, uuid.UUID]  # (stage id, case pupil id)


@dataclass
class SeenResponse:
    outcome: str
    response: str
    notes: str | None


@dataclass
class LessonRecord:
    lesson: ResearchLesson
    teacher_name: str
    stages: list[LessonStage]
    predictions: dict[Cell, str] = field(default_factory=dict)
    observations: dict[Cell, list[SeenResponse]] = field(default_factory=lambda: defaultdict(list))
    consensus: dict[Cell, str] = field(default_factory=dict)
    interviews: list[tuple[str | None, str]] = field(default_factory=list)
    discussion: Discussion | None = None
    reflections: dict[uuid.UUID, str] = field(default_factory=dict)
    observers: list[str] = field(default_factory=list)


@dataclass
class StudyRecord:
    study: LessonStudy
    school_names: list[str]
    members: list[MemberRead]
    case_pupils: list[CasePupil]
    lessons: list[LessonRecord]
    findings: FindingsRead | None
    open_house: OpenHouseLesson | None
    hours: StudyHours
    health: StudyHealth


async def study_record(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> StudyRecord:
    study = (await get_access(session, study_id, principal=principal)).study
    schools = dict(
        (
            await session.execute(
                select(School.id, School.name).where(School.id.in_(study.school_ids))
            )
        ).all()
    )
    members = (await members_service.members_of(session, [study.id]))[study.id]
    names = {m.id: m.name for m in members}
    pupils = await case_pupils_service.case_pupils_of(session, study.id)
    labels = {p.id: p.label for p in pupils}
    lessons = list(
        (
            await session.scalars(
                select(ResearchLesson)
                .where(ResearchLesson.study_id == study.id)
                .order_by(ResearchLesson.cycle)
            )
        ).all()
    )
    lesson_ids = [lesson.id for lesson in lessons]
    stages = await lessons_service.stages_of(session, lesson_ids)
    records = {
        lesson.id: LessonRecord(
            lesson=lesson,
            teacher_name=names.get(lesson.teacher_member_id, "Unknown"),
            stages=stages[lesson.id],
        )
        for lesson in lessons
    }
    for p in (
        await session.scalars(select(Prediction).where(Prediction.lesson_id.in_(lesson_ids)))
    ).all():
        records[p.lesson_id].predictions[(p.stage_id, p.case_pupil_id)] = p.response
    for o in (
        await session.scalars(
            select(Observation)
            .where(Observation.lesson_id.in_(lesson_ids))
            .order_by(Observation.id)
        )
    ).all():
        record = records[o.lesson_id]
        record.observations[(o.stage_id, o.case_pupil_id)].append(
            SeenResponse(o.outcome, o.response, o.notes)
        )
        observer = names.get(o.observer_member_id, "Unknown")
        if observer not in record.observers:
            record.observers.append(observer)
    for i in (
        await session.scalars(
            select(PupilInterview)
            .where(PupilInterview.lesson_id.in_(lesson_ids))
            .order_by(PupilInterview.id)
        )
    ).all():
        records[i.lesson_id].interviews.append(
            (labels.get(i.case_pupil_id) if i.case_pupil_id else None, i.notes)
        )
    discussions = {
        d.id: d
        for d in (
            await session.scalars(select(Discussion).where(Discussion.lesson_id.in_(lesson_ids)))
        ).all()
    }
    for d in discussions.values():
        records[d.lesson_id].discussion = d
    if discussions:
        for r in (
            await session.scalars(
                select(PupilReflection).where(PupilReflection.discussion_id.in_(discussions))
            )
        ).all():
            records[discussions[r.discussion_id].lesson_id].reflections[r.case_pupil_id] = (
                r.learning
            )
    for lesson in lessons:
        records[lesson.id].consensus = await lesson_teaching.consensus_outcomes(session, lesson.id)
    findings = await findings_service.findings_of(session, study.id)
    return StudyRecord(
        study=study,
        school_names=[schools.get(s, "Unknown school") for s in study.school_ids],
        members=members,
        case_pupils=pupils,
        lessons=[records[i] for i in lesson_ids],
        findings=(
            await findings_service.findings_read(session, study, findings)
            if findings is not None
            else None
        ),
        open_house=await session.scalar(
            select(OpenHouseLesson).where(OpenHouseLesson.study_id == study.id)
        ),
        hours=await time_service.study_hours(session, study.id, principal=principal),
        health=(await process_health_service.studies_health(session, [study.id]))[0],
    )
