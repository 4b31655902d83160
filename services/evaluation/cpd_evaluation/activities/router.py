"""``/v1/activities``: record, list, read, change, cancel and delete CPD activities."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import Unprocessable
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, SearchDep, SortKey, paginate
from cpd_evaluation.activities import reads, schemas, service
from cpd_evaluation.activities.access import get_activity
from cpd_evaluation.activities.routing import (
    ACTIVITY_ROLE_GUARD,
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
)
from cpd_evaluation.models import Activity
from cpd_evaluation.terms import ActivityKind, ActivityStatus

router = api_router(PREFIX, "activities", dependencies=ACTIVITY_ROLE_GUARD)


@router.get(
    "",
    response_model=Page[schemas.ActivityRead],
    summary="List activities you can see",
    description="Trust admins see every activity of the trust, leaders those of their schools, "
    "staff those they take part in or recorded. Filters combine; `date_from`/`date_to` keep "
    "activities whose sessions overlap the range; `q` searches title, subject and focus "
    "(every word, any case).",
)
async def list_activities(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: Annotated[SortKey, Depends(reads.SORTS)],
    school_id: Annotated[uuid.UUID | None, Query(description="Activities of this school")] = None,
    kind: Annotated[ActivityKind | None, Query()] = None,
    provider_id: Annotated[uuid.UUID | None, Query()] = None,
    date_from: Annotated[date | None, Query(description="Sessions on or after this day")] = None,
    date_to: Annotated[date | None, Query(description="Sessions on or before this day")] = None,
    need_id: Annotated[
        uuid.UUID | None, Query(description="Activities answering this need")
    ] = None,
    person_id: Annotated[
        uuid.UUID | None, Query(description="Activities this person takes part in")
    ] = None,
    status: Annotated[ActivityStatus | None, Query()] = None,
    q: SearchDep = None,
) -> Any:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise Unprocessable(
            "date_from is after date_to.",
            errors=[{"loc": "query.date_from", "msg": "must not be after date_to"}],
        )
    stmt = reads.list_query(
        principal=principal,
        school_id=school_id,
        kind=kind,
        provider_id=provider_id,
        date_from=date_from,
        date_to=date_to,
        need_id=need_id,
        person_id=person_id,
        q=q,
        status=status,
    )
    rows, cursor = await paginate(session, stmt, Activity.id, page, sort=sort)
    return Page[schemas.ActivityRead](
        items=await reads.activity_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.ActivityRead,
    summary="Record an activity",
    description="A course, INSET session, coaching, lesson study ... with its schools, sessions, "
    "costs and the needs it answers. Staff who are not leaders record their own CPD and join "
    "it as its participant. Whether it is sustained or one-off is derived from the sessions. "
    "Publishes `evaluation.activity.recorded`.",
    responses={
        403: {"description": "Governors and API clients cannot record activities."},
        422: {"description": "Unknown school or need, or none of the schools is yours."},
    },
)
async def create_activity(
    data: schemas.ActivityCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    activity = await service.create_activity(session, principal=principal, data=data)
    return resource_response(
        await reads.activity_read(session, activity),
        status_code=201,
        location=f"{PREFIX}/{activity.id}",
    )


@router.get(
    "/{activity_id}",
    response_model=schemas.ActivityRead,
    summary="Get an activity",
    description="With its sessions, costs, the needs it answers and whether it is sustained or "
    "one-off (and why).",
    responses=NOT_FOUND,
)
async def get_activity_route(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(await reads.read_activity(session, activity_id, principal=principal))


@router.patch(
    "/{activity_id}",
    response_model=schemas.ActivityRead,
    summary="Change an activity",
    description="With If-Match. `sessions`, when given, is the whole list (sessions with an id "
    "change, without one are added, left out are removed). A lesson study's title, kind, "
    "schools, subject and sessions come from the lesson study (409 here).",
    responses=PATCH_RESPONSES,
)
async def update_activity(
    activity_id: uuid.UUID,
    data: schemas.ActivityUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    require_if_match(request, await reads.activity_read(session, activity))
    activity = await service.update_activity(session, activity, principal=principal, data=data)
    return resource_response(await reads.activity_read(session, activity))


@router.delete(
    "/{activity_id}",
    status_code=204,
    summary="Delete an activity recorded in error",
    description="With If-Match. An activity that happened is kept (cancel one that did not). "
    "Activities from lesson studies cannot be deleted here (409).",
    responses=PATCH_RESPONSES,
)
async def delete_activity(
    activity_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    require_if_match(request, await reads.activity_read(session, activity))
    await service.delete_activity(session, activity)
    return Response(status_code=204)


@router.post(
    "/{activity_id}/cancel",
    response_model=schemas.ActivityRead,
    summary="Cancel an activity",
    description="The activity stays as a record, counts no hours and no longer changes.",
    responses=WRITE_RESPONSES,
)
async def cancel_activity(
    activity_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    data: schemas.CancelIn | None = None,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    reason = data.reason if data is not None else None
    activity = await service.cancel_activity(session, activity, reason=reason)
    return resource_response(await reads.activity_read(session, activity))


@router.put(
    "/{activity_id}/impact-note",
    response_model=schemas.ActivityRead,
    summary="Record the school's longer-term impact note",
    description="Training with a gap task: what the school saw change (for pupils) a while "
    "after the training. Leaders and trust admins.",
    responses=WRITE_RESPONSES,
)
async def put_impact_note(
    activity_id: uuid.UUID,
    data: schemas.ImpactNoteIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    activity = await service.set_impact_note(session, activity, note=data.note)
    return resource_response(await reads.activity_read(session, activity))
