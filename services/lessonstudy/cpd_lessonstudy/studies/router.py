"""``/v1/lesson-studies``: create, list, read, change and start lesson studies."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, SearchDep, SortKey, paginate
from cpd_lessonstudy.models import LessonStudy
from cpd_lessonstudy.studies import schemas, service
from cpd_lessonstudy.studies.routing import (
    CONFLICT,
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)
from cpd_lessonstudy.terms import StudyStatus

router = study_router("lesson studies")


@router.get(
    "",
    response_model=Page[schemas.StudyRead],
    summary="List lesson studies you can see",
    description="Your own studies, the studies of the schools you lead, or (trust admins) every "
    "study of the trust. Filter by school, status, member (a person id) and subject; `q` "
    "searches title, subject, learning goal and research question.",
)
async def list_studies(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: Annotated[SortKey, Depends(service.SORTS)],
    q: SearchDep = None,
    school_id: Annotated[
        uuid.UUID | None, Query(description="Studies involving this school")
    ] = None,
    status: Annotated[StudyStatus | None, Query()] = None,
    member: Annotated[uuid.UUID | None, Query(description="Studies this person belongs to")] = None,
    subject: Annotated[
        str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="Case-insensitive")
    ] = None,
) -> Any:
    stmt = service.list_query(
        principal=principal,
        school_id=school_id,
        status=status,
        member=member,
        subject=subject,
        q=q,
    )
    rows, cursor = await paginate(session, stmt, LessonStudy.id, page, sort=sort)
    return Page[schemas.StudyRead](
        items=await service.study_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.StudyRead,
    summary="Create a lesson study",
    description="Creates a study in `planning`: its focus (what pupils should learn better and "
    "how you will know, the technique to develop, the research question), its school(s) and its "
    "group. Next: case pupils, then `POST /{id}/start`.",
    responses={
        403: {"description": "Governors and API clients cannot create lesson studies."},
        422: {"description": "Unknown school or person, or none of the schools is yours."},
    },
)
async def create_study(
    data: schemas.StudyCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    study = await service.create_study(session, principal=principal, data=data)
    return resource_response(
        await service.study_read(session, study),
        status_code=201,
        location=f"{PREFIX}/{study.id}",
    )


@router.get(
    "/{study_id}",
    response_model=schemas.StudyRead,
    summary="Get a lesson study",
    description="With its members, progress and `next_step`, a plain-language pointer to what "
    "the process asks for next.",
    responses=NOT_FOUND,
)
async def get_study(study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    study = await service.get_study(session, study_id, principal=principal)
    return resource_response(await service.study_read(session, study))


@router.patch(
    "/{study_id}",
    response_model=schemas.StudyRead,
    summary="Change a lesson study",
    description="Members only, with If-Match. Schools change only while planning; a completed "
    "study is a record and cannot change. The status changes through the process endpoints "
    "(start, findings, complete, open-house), never here.",
    responses={**PATCH_RESPONSES, **CONFLICT},
)
async def update_study(
    study_id: uuid.UUID,
    data: schemas.StudyUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_study(session, study_id, principal=principal)
    require_if_match(request, await service.study_read(session, current))
    study = await service.update_study(session, study_id, principal=principal, data=data)
    return resource_response(await service.study_read(session, study))


@router.post(
    "/{study_id}/start",
    response_model=schemas.StudyRead,
    summary="Start the cycles (planning -> in_cycle)",
    description="Fixes the group and begins the research-lesson cycles. Needs at least one case "
    "pupil, two members and a member with the teacher role. Publishes "
    "`lessonstudy.study.started`. 409 from any other status.",
    responses=WRITE_RESPONSES,
)
async def start_study(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    study = await service.start_study(session, study_id, principal=principal)
    return resource_response(await service.study_read(session, study))
