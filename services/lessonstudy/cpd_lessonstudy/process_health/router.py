"""``/v1/lesson-studies/process-health`` (across studies) and ``/{id}/process-health``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import resource_response
from cpd_lessonstudy.process_health import schemas, service
from cpd_lessonstudy.studies.routing import NOT_FOUND, study_router
from cpd_lessonstudy.terms import StudyStatus

router = study_router("lesson studies: process health")
ABOUT = (
    " Cycles completed v planned, predictions made before teaching, observation coverage "
    "(stages x case pupils observed), discussions started from pupil evidence and days between "
    "cycles. These describe how the process was followed, never how anyone taught."
)


@router.get(
    "/process-health",
    response_model=schemas.TrustHealth,
    summary="Process health across studies",
    description="Trust admins: every study of the trust, by school and in total; school "
    "leaders: the studies of their schools. Filter by school and status." + ABOUT,
    responses={
        403: {"description": "Staff without a leadership role (they see their own study's)."}
    },
)
async def trust_health(
    session: SessionDep,
    principal: PrincipalDep,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[StudyStatus | None, Query()] = None,
) -> Response:
    return resource_response(
        await service.trust_health(session, principal=principal, school_id=school_id, status=status)
    )


@router.get(
    "/{study_id}/process-health",
    response_model=schemas.StudyHealth,
    summary="A study's process health",
    description="For the group, the school leaders of its schools and trust admins." + ABOUT,
    responses=NOT_FOUND,
)
async def study_health(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(await service.study_health(session, study_id, principal=principal))
