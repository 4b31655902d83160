"""``/v1/activities/{id}/reflections``: participants' journal entries on an activity."""

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
from cpd_evaluation.activities.routing import ACTIVITY_ROLE_GUARD, NOT_FOUND, PRECONDITIONS, PREFIX
from cpd_evaluation.models.voice import Reflection
from cpd_evaluation.reflections import schemas, service

router = api_router(
    PREFIX + "/{activity_id}/reflections", "participant voice", dependencies=ACTIVITY_ROLE_GUARD
)

PRIVATE = (
    "An entry is read by its author and the mentor it is shared with; one marked as shared "
    "evidence also by everyone who reads the activity. To anyone else it does not exist (404). "
)
AUTHOR_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "You can read this entry but only its author changes it."}
}


@router.post(
    "",
    status_code=201,
    response_model=schemas.ReflectionRead,
    summary="Write a reflection",
    description="Participants only: what I tried, what happened for pupils, what next. " + PRIVATE,
    responses={**NOT_FOUND, 403: {"description": "You do not take part in the activity."}},
)
async def create_reflection(
    activity_id: uuid.UUID,
    data: schemas.ReflectionCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal)
    reflection = await service.create_reflection(session, activity, principal=principal, data=data)
    return resource_response(
        schemas.ReflectionRead.model_validate(reflection),
        status_code=201,
        location=f"{PREFIX}/{activity_id}/reflections/{reflection.id}",
    )


@router.get(
    "",
    response_model=Page[schemas.ReflectionRead],
    summary="List the reflections you may read",
    description=PRIVATE,
    responses=NOT_FOUND,
)
async def list_reflections(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    activity, sees = await service.activity_for_reading(session, activity_id, principal=principal)
    rows, cursor = await paginate(
        session,
        service.list_query(activity, principal=principal, sees_activity=sees),
        Reflection.id,
        page,
    )
    return Page[schemas.ReflectionRead](
        items=[schemas.ReflectionRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.get(
    "/counts",
    response_model=schemas.ReflectionCounts,
    summary="How many reflections there are",
    description="Everyone who reads the activity: how many entries are private and how many "
    "are shared as evidence. Never what the private ones say.",
    responses=NOT_FOUND,
)
async def reflection_counts(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Any:
    activity = await get_activity(session, activity_id, principal=principal)
    return await service.counts(session, activity)


@router.get(
    "/{reflection_id}",
    response_model=schemas.ReflectionRead,
    summary="Read a reflection",
    description=PRIVATE,
    responses=NOT_FOUND,
)
async def get_reflection(
    activity_id: uuid.UUID, reflection_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    reflection = await service.get_reflection(
        session, activity_id, reflection_id, principal=principal
    )
    return resource_response(schemas.ReflectionRead.model_validate(reflection))


@router.patch(
    "/{reflection_id}",
    response_model=schemas.ReflectionRead,
    summary="Change your reflection",
    description="The author, with If-Match: the text, who it is shared with, whether it is "
    "shared evidence.",
    responses={**NOT_FOUND, **AUTHOR_ONLY, **PRECONDITIONS},
)
async def update_reflection(
    activity_id: uuid.UUID,
    reflection_id: uuid.UUID,
    data: schemas.ReflectionUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    reflection = await service.get_reflection(
        session, activity_id, reflection_id, principal=principal
    )
    require_if_match(request, schemas.ReflectionRead.model_validate(reflection))
    reflection = await service.update_reflection(
        session, reflection, principal=principal, data=data
    )
    return resource_response(schemas.ReflectionRead.model_validate(reflection))


@router.delete(
    "/{reflection_id}",
    status_code=204,
    summary="Delete your reflection",
    description="The author, with If-Match.",
    responses={**NOT_FOUND, **AUTHOR_ONLY, **PRECONDITIONS},
)
async def delete_reflection(
    activity_id: uuid.UUID,
    reflection_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    reflection = await service.get_reflection(
        session, activity_id, reflection_id, principal=principal
    )
    require_if_match(request, schemas.ReflectionRead.model_validate(reflection))
    await service.delete_reflection(session, reflection, principal=principal)
    return Response(status_code=204)
