"""``/v1/activities/{id}/feedback``: participants' feedback, each once; aggregates for
everyone else once the feedback window closes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import resource_response
from cpd_common.idempotency import api_router
from cpd_evaluation.activities.access import get_activity
from cpd_evaluation.activities.routing import (
    ACTIVITY_ROLE_GUARD,
    NOT_FOUND,
    PREFIX,
    WRITE_RESPONSES,
)
from cpd_evaluation.feedback import schemas, service

router = api_router(
    PREFIX + "/{activity_id}", "participant voice", dependencies=ACTIVITY_ROLE_GUARD
)


@router.post(
    "/feedback",
    status_code=201,
    response_model=schemas.FeedbackRead,
    summary="Give your feedback on an activity",
    description="Participants only, once each (409 the second time), from the first session "
    "until the feedback window closes (409 after). Ratings 1-5 for relevance, quality and "
    "expected impact on pupils, what you will do differently and a comment. Nobody reads it "
    "as yours: others see only aggregates of at least 5 responses after the window closes.",
    responses={
        **NOT_FOUND,
        403: {"description": "You did not take part in this activity."},
        409: {"description": "Already given, window closed or not yet open, or cancelled."},
    },
)
async def give_feedback(
    activity_id: uuid.UUID,
    data: schemas.FeedbackCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal)
    feedback = await service.give_feedback(session, activity, principal=principal, data=data)
    return resource_response(
        schemas.FeedbackRead.model_validate(feedback),
        status_code=201,
        location=f"{PREFIX}/{activity_id}/feedback/mine",
    )


@router.get(
    "/feedback/mine",
    response_model=schemas.FeedbackRead,
    summary="Read your own feedback",
    responses={404: {"description": "No such activity, or you have not given feedback."}},
)
async def my_feedback(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    activity = await get_activity(session, activity_id, principal=principal)
    feedback = await service.my_feedback(session, activity, principal=principal)
    return resource_response(schemas.FeedbackRead.model_validate(feedback))


@router.get(
    "/feedback",
    response_model=schemas.FeedbackSummary,
    summary="Feedback results",
    description="While the window is open: only the number of responses. After it closes: "
    "mean and distribution of each rating and the unattributed texts, when at least 5 "
    "responded; below that everything is withheld, with the reason.",
    responses=NOT_FOUND,
)
async def feedback_summary(
    activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Any:
    activity = await get_activity(session, activity_id, principal=principal)
    return await service.summary(session, activity)


@router.get(
    "/feedback-window",
    response_model=schemas.WindowRead,
    summary="When feedback closes",
    responses=NOT_FOUND,
)
async def get_window(activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Any:
    activity = await get_activity(session, activity_id, principal=principal)
    return await service.window_of(session, activity)


@router.put(
    "/feedback-window",
    response_model=schemas.WindowRead,
    summary="Set when feedback closes",
    description="Leaders, trust admins and whoever recorded the activity: extend the window or "
    "close it now (a time already past). A closed window never reopens (409).",
    responses={**WRITE_RESPONSES, 409: {"description": "The window is already closed."}},
)
async def put_window(
    activity_id: uuid.UUID, data: schemas.WindowIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    activity = await get_activity(session, activity_id, principal=principal, write=True)
    return await service.set_window(
        session, activity, principal=principal, closes_at=data.closes_at
    )
