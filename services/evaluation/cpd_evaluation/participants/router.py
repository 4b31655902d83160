"""``/v1/activities/{id}/participants`` and ``/attendance``: who took part, attendance per
session, hours, and delegates' impact reports."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.activities.access import get_activity
from cpd_evaluation.activities.routing import (
    ACTIVITY_ROLE_GUARD,
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
)
from cpd_evaluation.models import Participant
from cpd_evaluation.participants import schemas, service

router = api_router(PREFIX + "/{activity_id}", "activities", dependencies=ACTIVITY_ROLE_GUARD)


@router.get(
    "/participants",
    response_model=Page[schemas.ParticipantRead],
    summary="List an activity's participants",
    description="With hours (and where they come from) and attendance. Leaders, trust admins "
    "and whoever recorded the activity see everyone; a participant sees their own entry.",
    responses=NOT_FOUND,
)
async def list_participants(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    activity = await get_activity(session, activity_id, principal=principal)
    rows, cursor = await paginate(
        session, service.list_query(activity, principal=principal), Participant.id, page
    )
    return Page[schemas.ParticipantRead](
        items=await service.participant_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "/participants",
    status_code=201,
    response_model=schemas.ParticipantRead,
    summary="Add a participant",
    description="A member of staff of the trust, once per activity (409 when already there). "
    "Publishes `evaluation.participation.recorded`.",
    responses={
        **WRITE_RESPONSES,
        409: {"description": "Already a participant, or the activity is cancelled."},
        422: {"description": "Unknown person."},
    },
)
async def add_participant(
    activity_id: uuid.UUID,
    data: schemas.ParticipantCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    participant = await service.add_participant(
        session, activity_id, principal=principal, data=data
    )
    return resource_response(
        await service.participant_read(session, participant),
        status_code=201,
        location=f"{PREFIX}/{activity_id}/participants/{participant.id}",
    )


@router.get(
    "/participants/{participant_id}",
    response_model=schemas.ParticipantRead,
    summary="Get a participant",
    responses=NOT_FOUND,
)
async def get_participant(
    activity_id: uuid.UUID, participant_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal)
    participant = await service.get_participant(
        session, activity, participant_id, principal=principal
    )
    return resource_response(await service.participant_read(session, participant))


@router.patch(
    "/participants/{participant_id}",
    response_model=schemas.ParticipantRead,
    summary="Change a participant's role or hours",
    description="With If-Match. `hours: null` goes back to counting the sessions attended.",
    responses=PATCH_RESPONSES,
)
async def update_participant(
    activity_id: uuid.UUID,
    participant_id: uuid.UUID,
    data: schemas.ParticipantUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    participant = await service.get_participant(
        session, activity, participant_id, principal=principal
    )
    require_if_match(request, await service.participant_read(session, participant))
    participant = await service.update_participant(
        session, activity, participant, principal=principal, data=data
    )
    return resource_response(await service.participant_read(session, participant))


@router.delete(
    "/participants/{participant_id}",
    status_code=204,
    summary="Remove a participant",
    description="With If-Match. Their attendance goes with them.",
    responses=PATCH_RESPONSES,
)
async def remove_participant(
    activity_id: uuid.UUID,
    participant_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    participant = await service.get_participant(
        session, activity, participant_id, principal=principal
    )
    require_if_match(request, await service.participant_read(session, participant))
    await service.remove_participant(session, activity, participant, principal=principal)
    return Response(status_code=204)


@router.put(
    "/participants/{participant_id}/impact-report",
    response_model=schemas.ParticipantRead,
    summary="Write your impact report (training with a gap task)",
    description="The delegate only: what you tried in the gap task and what it changed for "
    "your pupils, and when you did the gap task.",
    responses={**NOT_FOUND, 403: {"description": "Not your participation."}},
)
async def put_impact_report(
    activity_id: uuid.UUID,
    participant_id: uuid.UUID,
    data: schemas.ImpactReportIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal)
    participant = await service.get_participant(
        session, activity, participant_id, principal=principal
    )
    participant = await service.report_impact(
        session, activity, participant, principal=principal, data=data
    )
    return resource_response(await service.participant_read(session, participant))


@router.get(
    "/attendance",
    response_model=schemas.AttendanceGrid,
    summary="Attendance per session",
    responses=NOT_FOUND,
)
async def get_attendance(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Any:
    activity = await get_activity(session, activity_id, principal=principal)
    return schemas.AttendanceGrid(
        items=await service.attendance_of(session, activity, principal=principal)
    )


@router.put(
    "/attendance",
    response_model=schemas.AttendanceGrid,
    summary="Mark attendance",
    description="Sets (never adds) attendance for participant x session pairs; hours follow "
    "unless a participant's hours were recorded directly.",
    responses={
        **WRITE_RESPONSES,
        422: {"description": "Not this activity's participant or session."},
    },
)
async def put_attendance(
    activity_id: uuid.UUID,
    data: schemas.AttendanceIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> Any:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    await service.set_attendance(session, activity, principal=principal, data=data)
    return schemas.AttendanceGrid(
        items=await service.attendance_of(session, activity, principal=principal)
    )
