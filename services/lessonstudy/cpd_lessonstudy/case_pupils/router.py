"""``/v1/lesson-studies/{id}/case-pupils``: the pupils the group follows, by label only."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.case_pupils import schemas, service
from cpd_lessonstudy.models import CasePupil
from cpd_lessonstudy.studies.access import get_access
from cpd_lessonstudy.studies.routing import (
    CONFLICT,
    IF_MATCH_DELETE,
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)

router = study_router("lesson studies: case pupils")

PRIVACY = (
    "\n\nCase pupils are never named: a label (A, B, C) and a profile. " + schemas.PRIVACY_WARNING
)


@router.get(
    "/{study_id}/case-pupils",
    response_model=Page[schemas.CasePupilRead],
    summary="List the case pupils",
    description="The study's case pupils (usually three)." + PRIVACY,
    responses=NOT_FOUND,
)
async def list_case_pupils(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    await get_access(session, study_id, principal=principal)
    rows, cursor = await paginate(session, service.case_pupils_query(study_id), CasePupil.id, page)
    return Page[schemas.CasePupilRead](
        items=[schemas.CasePupilRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.post(
    "/{study_id}/case-pupils",
    status_code=201,
    response_model=schemas.CasePupilRead,
    summary="Add a case pupil",
    description="A label of 1-3 letters or digits, a profile, the starting point and the success "
    "criteria. Labels that look like names, and text with an obvious identifier, are refused "
    "(422). At most six per study; not once the cycles are over." + PRIVACY,
    responses={
        **WRITE_RESPONSES,
        422: {"description": "Label too long or name-like; identifier in the text."},
    },
)
async def add_case_pupil(
    study_id: uuid.UUID,
    data: schemas.CasePupilCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    pupil = await service.add_case_pupil(session, study_id, principal=principal, data=data)
    return resource_response(
        schemas.CasePupilRead.model_validate(pupil),
        status_code=201,
        location=f"{PREFIX}/{study_id}/case-pupils/{pupil.id}",
    )


@router.get(
    "/{study_id}/case-pupils/{case_pupil_id}",
    response_model=schemas.CasePupilRead,
    summary="Get a case pupil",
    description=PRIVACY.strip(),
    responses=NOT_FOUND,
)
async def get_case_pupil(
    study_id: uuid.UUID, case_pupil_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    pupil = await service.get_case_pupil(session, study_id, case_pupil_id, principal=principal)
    return resource_response(schemas.CasePupilRead.model_validate(pupil))


@router.patch(
    "/{study_id}/case-pupils/{case_pupil_id}",
    response_model=schemas.CasePupilRead,
    summary="Change a case pupil",
    description="Members only, with If-Match." + PRIVACY,
    responses={**PATCH_RESPONSES, **CONFLICT},
)
async def update_case_pupil(
    study_id: uuid.UUID,
    case_pupil_id: uuid.UUID,
    data: schemas.CasePupilUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_case_pupil(session, study_id, case_pupil_id, principal=principal)
    require_if_match(request, schemas.CasePupilRead.model_validate(current))
    pupil = await service.update_case_pupil(
        session, study_id, case_pupil_id, principal=principal, data=data
    )
    return resource_response(schemas.CasePupilRead.model_validate(pupil))


@router.delete(
    "/{study_id}/case-pupils/{case_pupil_id}",
    status_code=204,
    summary="Remove a case pupil (planning only)",
    description=IF_MATCH_DELETE,
    responses={**WRITE_RESPONSES, **PATCH_RESPONSES},
)
async def remove_case_pupil(
    study_id: uuid.UUID,
    case_pupil_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_case_pupil(session, study_id, case_pupil_id, principal=principal)
    require_if_match(request, schemas.CasePupilRead.model_validate(current))
    await service.remove_case_pupil(session, study_id, case_pupil_id, principal=principal)
    return Response(status_code=204)
