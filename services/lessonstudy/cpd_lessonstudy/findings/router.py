"""``/v1/lesson-studies/{id}/findings``, ``/complete`` and ``/open-house``: ending and sharing
a study."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_lessonstudy.findings import schemas, service
from cpd_lessonstudy.studies import schemas as study_schemas
from cpd_lessonstudy.studies import service as studies_service
from cpd_lessonstudy.studies.access import get_access
from cpd_lessonstudy.studies.routing import NOT_FOUND, PREFIX, WRITE_RESPONSES, study_router

router = study_router("lesson studies: findings and sharing")


@router.get(
    "/{study_id}/findings",
    response_model=schemas.FindingsRead,
    summary="Get the agreed findings",
    description="404 until the group has agreed them.",
    responses=NOT_FOUND,
)
async def get_findings(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(await service.require_findings(session, study_id, principal=principal))


@router.put(
    "/{study_id}/findings",
    response_model=schemas.FindingsRead,
    status_code=200,
    summary="Agree (or revise) the findings",
    description="Practices discovered, what worked for which case pupils, what to share. The "
    "first time (201) moves the study from `in_cycle` to `findings`: at least one cycle must be "
    "completed and none left half done. Revising existing findings needs If-Match. Not once "
    "the study is completed.",
    responses={
        201: {"description": "Findings agreed; the study is now in `findings`."},
        **WRITE_RESPONSES,
        412: {"description": "If-Match does not match the current findings."},
        428: {"description": "If-Match is missing when revising findings."},
    },
)
async def agree_findings(
    study_id: uuid.UUID,
    data: schemas.FindingsInput,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_findings(session, study_id, principal=principal)
    if current is not None:
        require_if_match(request, current)
    findings, created = await service.agree_findings(
        session, study_id, principal=principal, data=data
    )
    study = (await get_access(session, study_id, principal=principal)).study
    return resource_response(
        await service.findings_read(session, study, findings),
        status_code=201 if created else 200,
        location=f"{PREFIX}/{study_id}/findings" if created else None,
    )


@router.post(
    "/{study_id}/complete",
    response_model=study_schemas.StudyRead,
    summary="Complete the study (findings -> completed)",
    description="Closes the record once the findings are agreed. Publishes "
    "`lessonstudy.study.completed` with the findings and each member's total hours. Next: the "
    "open-house lesson.",
    responses=WRITE_RESPONSES,
)
async def complete_study(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    study = await service.complete_study(session, study_id, principal=principal)
    return resource_response(await studies_service.study_read(session, study))


@router.post(
    "/{study_id}/open-house",
    status_code=201,
    response_model=schemas.OpenHouseRead,
    summary="Record the open-house lesson (completed -> shared)",
    description="The public research lesson where colleagues watch the new approach and discuss "
    "it with the group: date and audience. The study becomes `shared`.",
    responses={**WRITE_RESPONSES, 422: {"description": "Date in the future."}},
)
async def record_open_house(
    study_id: uuid.UUID,
    data: schemas.OpenHouseInput,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    lesson = await service.record_open_house(session, study_id, principal=principal, data=data)
    return resource_response(
        schemas.OpenHouseRead.model_validate(lesson),
        status_code=201,
        location=f"{PREFIX}/{study_id}/open-house",
    )


@router.get(
    "/{study_id}/open-house",
    response_model=schemas.OpenHouseRead,
    summary="Get the open-house lesson",
    responses=NOT_FOUND,
)
async def get_open_house(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    lesson = await service.get_open_house(session, study_id, principal=principal)
    return resource_response(schemas.OpenHouseRead.model_validate(lesson))
