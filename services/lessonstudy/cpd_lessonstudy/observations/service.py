"""Observations: each observer records, per stage x case pupil, what the pupil did and whether
they met the success criteria at that point. Several observers may record the same cell."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, where_given
from cpd_common.schemas import from_row
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import LessonStage, Observation
from cpd_lessonstudy.observations.errors import (
    CellAlreadyObserved,
    NotYourObservation,
    ObservationNotFound,
    TeacherCannotObserve,
)
from cpd_lessonstudy.observations.schemas import (
    ObservationCreate,
    ObservationRead,
    ObservationUpdate,
)
from cpd_lessonstudy.research_lessons import service as lessons_service


async def record_observation(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    *,
    principal: Principal,
    data: ObservationCreate,
) -> Observation:
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    lessons_service.ensure_taught(lesson, "observations are recorded")
    assert access.member is not None
    if access.member.id == lesson.teacher_member_id:
        raise TeacherCannotObserve(
            "You taught this research lesson; the other members observe the case pupils."
        )
    await lessons_service.check_cell(
        session, lesson, stage_id=data.stage_id, case_pupil_id=data.case_pupil_id, loc="body"
    )
    taken = await session.scalar(
        select(Observation.id).where(
            Observation.stage_id == data.stage_id,
            Observation.case_pupil_id == data.case_pupil_id,
            Observation.observer_member_id == access.member.id,
        )
    )
    if taken is not None:
        raise CellAlreadyObserved(
            f"You already recorded this stage for this case pupil (observation {taken}); "
            "change it with PATCH."
        )
    observation = Observation(
        lesson_id=lesson.id,
        trust_id=lesson.trust_id,
        stage_id=data.stage_id,
        case_pupil_id=data.case_pupil_id,
        observer_member_id=access.member.id,
        response=data.response,
        outcome=data.outcome,
        notes=data.notes,
    )
    session.add(observation)
    await session.flush()
    return observation


def observations_query(
    lesson_id: uuid.UUID,
    *,
    stage_id: uuid.UUID | None = None,
    case_pupil_id: uuid.UUID | None = None,
    observer_member_id: uuid.UUID | None = None,
) -> Select[Observation]:
    stmt = select(Observation).where(Observation.lesson_id == lesson_id)
    stmt = where_given(
        stmt,
        (Observation.stage_id, stage_id),
        (Observation.case_pupil_id, case_pupil_id),
        (Observation.observer_member_id, observer_member_id),
    )
    return stmt


async def observation_reads(
    session: AsyncSession, study_id: uuid.UUID, observations: list[Observation]
) -> list[ObservationRead]:
    if not observations:
        return []
    names = await members_service.member_views(session, study_id)
    stages = dict(
        (
            await session.execute(
                select(LessonStage.id, LessonStage.position).where(
                    LessonStage.id.in_({o.stage_id for o in observations})
                )
            )
        ).all()
    )
    labels = await case_pupils_service.labels_of(session, study_id)
    return [
        from_row(
            ObservationRead,
            o,
            stage_position=stages[o.stage_id],
            case_pupil_label=labels[o.case_pupil_id],
            observer_name=names[o.observer_member_id].name,
        )
        for o in observations
    ]


async def _load(
    session: AsyncSession, lesson_id: uuid.UUID, observation_id: uuid.UUID
) -> Observation:
    return await scalar_or_raise(
        session,
        select(Observation).where(
            Observation.id == observation_id, Observation.lesson_id == lesson_id
        ),
        ObservationNotFound,
    )


async def get_observation(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    observation_id: uuid.UUID,
    *,
    principal: Principal,
) -> ObservationRead:
    _, lesson = await lessons_service.lesson_for(session, study_id, lesson_id, principal=principal)
    observation = await _load(session, lesson.id, observation_id)
    return (await observation_reads(session, study_id, [observation]))[0]


async def update_observation(
    session: AsyncSession,
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    observation_id: uuid.UUID,
    *,
    principal: Principal,
    data: ObservationUpdate,
) -> ObservationRead:
    access, lesson = await lessons_service.lesson_for(
        session, study_id, lesson_id, principal=principal, write=True
    )
    lessons_service.ensure_taught(lesson, "observations are changed")
    observation = await _load(session, lesson.id, observation_id)
    if observation.observer_member_id != access.member_id:
        raise NotYourObservation("Each observer changes only their own observations.")
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(observation, name, value)
    await session.flush()
    return (await observation_reads(session, study_id, [observation]))[0]
