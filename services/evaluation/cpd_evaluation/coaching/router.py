"""``/v1/activities/{id}/coaching-agreement``, ``/sessions`` (the coaching learning log, read
only by the coach and the coachee) and ``/coaching`` (the cadence everyone who reads the
activity sees).

The log is the ``/sessions`` sub-resource the public API map names. An activity's scheduled
sessions are a field of the activity itself (which leaders read); the log's entries are the
pair's alone and never appear in that field.
"""

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
from cpd_evaluation.coaching import schemas, service
from cpd_evaluation.models.voice import CoachingSession

router = api_router(PREFIX + "/{activity_id}", "coaching", dependencies=ACTIVITY_ROLE_GUARD)

PAIR_ONLY = (
    "Only the coach and the coachee: to anyone else, leaders and trust admins included, it "
    "does not exist (404). Coaching is development, not appraisal."
)
LOG_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such agreement or entry, or you are not the coach or coachee."}
}


@router.post(
    "/coaching-agreement",
    status_code=201,
    response_model=schemas.AgreementRead,
    summary="Record the coaching agreement",
    description="The coach or the coachee, for a coaching, mentoring or peer-coaching activity "
    "both take part in: the outcomes they agreed. One per activity (409). " + PAIR_ONLY,
    responses={
        **NOT_FOUND,
        403: {"description": "You are neither the coach nor the coachee named."},
        409: {"description": "Not a coaching activity, cancelled, or it has its agreement."},
        422: {"description": "The coach or coachee does not take part in the activity."},
    },
)
async def create_agreement(
    activity_id: uuid.UUID,
    data: schemas.AgreementCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal)
    agreement = await service.create_agreement(session, activity, principal=principal, data=data)
    return resource_response(
        schemas.AgreementRead.model_validate(agreement),
        status_code=201,
        location=f"{PREFIX}/{activity_id}/coaching-agreement",
    )


@router.get(
    "/coaching-agreement",
    response_model=schemas.AgreementRead,
    summary="Read the coaching agreement",
    description=PAIR_ONLY,
    responses=LOG_NOT_FOUND,
)
async def get_agreement(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    agreement = await service.pair_agreement(session, activity_id, principal=principal)
    return resource_response(schemas.AgreementRead.model_validate(agreement))


@router.patch(
    "/coaching-agreement",
    response_model=schemas.AgreementRead,
    summary="Change the agreed outcomes",
    description="With If-Match. " + PAIR_ONLY,
    responses={**LOG_NOT_FOUND, **PRECONDITIONS},
)
async def update_agreement(
    activity_id: uuid.UUID,
    data: schemas.AgreementUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    agreement = await service.pair_agreement(session, activity_id, principal=principal, lock=True)
    require_if_match(request, schemas.AgreementRead.model_validate(agreement))
    agreement = await service.update_agreement(
        session, agreement, agreed_outcomes=data.agreed_outcomes
    )
    return resource_response(schemas.AgreementRead.model_validate(agreement))


@router.get(
    "/sessions",
    response_model=Page[schemas.CoachingSessionRead],
    summary="Read the learning log",
    description=PAIR_ONLY,
    responses=LOG_NOT_FOUND,
)
async def list_log(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    agreement = await service.pair_agreement(session, activity_id, principal=principal)
    rows, cursor = await paginate(session, service.log_query(agreement), CoachingSession.id, page)
    return Page[schemas.CoachingSessionRead](
        items=[schemas.CoachingSessionRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.post(
    "/sessions",
    status_code=201,
    response_model=schemas.CoachingSessionRead,
    summary="Log a coaching session",
    description="Date, minutes, focus, the evidence looked at, next steps, impact noted and "
    "when you meet next. " + PAIR_ONLY,
    responses=LOG_NOT_FOUND,
)
async def add_log_entry(
    activity_id: uuid.UUID,
    data: schemas.CoachingSessionCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    agreement = await service.pair_agreement(session, activity_id, principal=principal, lock=True)
    entry = await service.add_log_entry(session, agreement, data=data)
    return resource_response(
        schemas.CoachingSessionRead.model_validate(entry),
        status_code=201,
        location=f"{PREFIX}/{activity_id}/sessions/{entry.id}",
    )


@router.get(
    "/sessions/{entry_id}",
    response_model=schemas.CoachingSessionRead,
    summary="Read a log entry",
    description=PAIR_ONLY,
    responses=LOG_NOT_FOUND,
)
async def get_log_entry(
    activity_id: uuid.UUID, entry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    agreement = await service.pair_agreement(session, activity_id, principal=principal)
    entry = await service.get_log_entry(session, agreement, entry_id)
    return resource_response(schemas.CoachingSessionRead.model_validate(entry))


@router.patch(
    "/sessions/{entry_id}",
    response_model=schemas.CoachingSessionRead,
    summary="Change a log entry",
    description="With If-Match. " + PAIR_ONLY,
    responses={**LOG_NOT_FOUND, **PRECONDITIONS},
)
async def update_log_entry(
    activity_id: uuid.UUID,
    entry_id: uuid.UUID,
    data: schemas.CoachingSessionUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    agreement = await service.pair_agreement(session, activity_id, principal=principal, lock=True)
    entry = await service.get_log_entry(session, agreement, entry_id)
    require_if_match(request, schemas.CoachingSessionRead.model_validate(entry))
    entry = await service.update_log_entry(session, entry, data=data)
    return resource_response(schemas.CoachingSessionRead.model_validate(entry))


@router.delete(
    "/sessions/{entry_id}",
    status_code=204,
    summary="Delete a log entry",
    description="With If-Match. " + PAIR_ONLY,
    responses={**LOG_NOT_FOUND, **PRECONDITIONS},
)
async def delete_log_entry(
    activity_id: uuid.UUID,
    entry_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    agreement = await service.pair_agreement(session, activity_id, principal=principal, lock=True)
    entry = await service.get_log_entry(session, agreement, entry_id)
    require_if_match(request, schemas.CoachingSessionRead.model_validate(entry))
    await service.delete_log_entry(session, entry, agreement=agreement)
    return Response(status_code=204)


@router.get(
    "/coaching",
    response_model=schemas.CoachingCadence,
    summary="That coaching happens, and how often",
    description="Everyone who reads the activity: whether an agreement is in place, the number "
    "of sessions, minutes, days between sessions, first and last session. Never the agreement "
    "or the log.",
    responses={**NOT_FOUND, 409: {"description": "Not a coaching activity."}},
)
async def get_cadence(activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Any:
    activity = await get_activity(session, activity_id, principal=principal)
    service.ensure_coaching(activity)
    return await service.cadence(session, activity)
