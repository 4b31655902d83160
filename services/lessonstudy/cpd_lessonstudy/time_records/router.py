"""``/v1/lesson-studies/{id}/time-records`` and ``/hours``: the time each member gives."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.models import TimeRecord
from cpd_lessonstudy.studies.access import get_access
from cpd_lessonstudy.studies.routing import (
    IF_MATCH_DELETE,
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)
from cpd_lessonstudy.time_records import schemas, service

router = study_router("lesson studies: time")


@router.get(
    "/{study_id}/time-records",
    response_model=Page[schemas.TimeRecordRead],
    summary="List time records",
    responses=NOT_FOUND,
)
async def list_time_records(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    await get_access(session, study_id, principal=principal)
    rows, cursor = await paginate(
        session, service.time_records_query(study_id), TimeRecord.id, page
    )
    return Page[schemas.TimeRecordRead](
        items=await service.record_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "/{study_id}/time-records",
    status_code=201,
    response_model=schemas.TimeRecordRead,
    summary="Record a session's time",
    description="A meeting, planning, teaching or observing session with the minutes each member "
    "spent. Link it to a research lesson to count it in that cycle's hours.",
    responses={
        **WRITE_RESPONSES,
        422: {"description": "Unknown member or lesson; date in the future."},
    },
)
async def record_time(
    study_id: uuid.UUID,
    data: schemas.TimeRecordCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    record = await service.record_time(session, study_id, principal=principal, data=data)
    read = (await service.record_reads(session, [record]))[0]
    return resource_response(
        read, status_code=201, location=f"{PREFIX}/{study_id}/time-records/{record.id}"
    )


@router.get(
    "/{study_id}/time-records/{record_id}",
    response_model=schemas.TimeRecordRead,
    summary="Get a time record",
    responses=NOT_FOUND,
)
async def get_time_record(
    study_id: uuid.UUID, record_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await service.get_time_record(session, study_id, record_id, principal=principal)
    )


@router.delete(
    "/{study_id}/time-records/{record_id}",
    status_code=204,
    summary="Delete a time record (recorded by mistake)",
    description=IF_MATCH_DELETE,
    responses={**WRITE_RESPONSES, **PATCH_RESPONSES},
)
async def delete_time_record(
    study_id: uuid.UUID,
    record_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    require_if_match(
        request, await service.get_time_record(session, study_id, record_id, principal=principal)
    )
    await service.delete_time_record(session, study_id, record_id, principal=principal)
    return Response(status_code=204)


@router.get(
    "/{study_id}/hours",
    response_model=schemas.StudyHours,
    summary="Hours per member",
    description="Each member's lesson-study hours, in total and by kind of session. Time, not a "
    "judgement: nothing here rates anyone.",
    responses=NOT_FOUND,
)
async def study_hours(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(await service.study_hours(session, study_id, principal=principal))
