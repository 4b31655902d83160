"""``/v1/lesson-studies/{id}/research-lessons/{lid}/observations``: what each case pupil did."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.models import Observation
from cpd_lessonstudy.observations import schemas, service
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.studies.routing import (
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)

router = study_router("lesson studies: observations")
BASE = "/{study_id}/research-lessons/{lesson_id}/observations"
ABOUT_PUPILS = (
    "\n\nObservations are about the case pupils' learning, not the teacher: nothing here rates "
    "or feeds the appraisal of anyone."
)


@router.get(
    BASE,
    response_model=Page[schemas.ObservationRead],
    summary="List observations",
    description="Filter by stage, case pupil or observer." + ABOUT_PUPILS,
    responses=NOT_FOUND,
)
async def list_observations(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    stage_id: Annotated[uuid.UUID | None, Query()] = None,
    case_pupil_id: Annotated[uuid.UUID | None, Query()] = None,
    observer_member_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Any:
    _, lesson = await lessons_service.lesson_for(session, study_id, lesson_id, principal=principal)
    stmt = service.observations_query(
        lesson.id,
        stage_id=stage_id,
        case_pupil_id=case_pupil_id,
        observer_member_id=observer_member_id,
    )
    rows, cursor = await paginate(session, stmt, Observation.id, page)
    return Page[schemas.ObservationRead](
        items=await service.observation_reads(session, study_id, rows), next_cursor=cursor
    )


@router.post(
    BASE,
    status_code=201,
    response_model=schemas.ObservationRead,
    summary="Record an observation",
    description="Your observation of one case pupil at one stage of a taught lesson: what they "
    "did, and whether they met their success criteria at that point (met, partly, not_yet). "
    "Several observers may record the same cell; each records it once (then PATCH). The lesson's "
    "teacher does not observe it (403)." + ABOUT_PUPILS,
    responses={
        **WRITE_RESPONSES,
        422: {"description": "A stage or case pupil not of this lesson."},
    },
)
async def record_observation(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    data: schemas.ObservationCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    observation = await service.record_observation(
        session, study_id, lesson_id, principal=principal, data=data
    )
    read = (await service.observation_reads(session, study_id, [observation]))[0]
    return resource_response(
        read,
        status_code=201,
        location=f"{PREFIX}/{study_id}/research-lessons/{lesson_id}/observations/{observation.id}",
    )


@router.get(
    BASE + "/{observation_id}",
    response_model=schemas.ObservationRead,
    summary="Get an observation",
    responses=NOT_FOUND,
)
async def get_observation(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    observation_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    return resource_response(
        await service.get_observation(
            session, study_id, lesson_id, observation_id, principal=principal
        )
    )


@router.patch(
    BASE + "/{observation_id}",
    response_model=schemas.ObservationRead,
    summary="Change your observation",
    description="With If-Match; only its observer, and only until the lesson is completed.",
    responses={**PATCH_RESPONSES, 409: {"description": "The lesson is completed."}},
)
async def update_observation(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    observation_id: uuid.UUID,
    data: schemas.ObservationUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_observation(
        session, study_id, lesson_id, observation_id, principal=principal
    )
    require_if_match(request, current)
    return resource_response(
        await service.update_observation(
            session, study_id, lesson_id, observation_id, principal=principal, data=data
        )
    )
