"""``/v1/lesson-studies/{id}/research-lessons/{lid}/discussion``: the post-lesson discussion."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_lessonstudy.discussions import schemas, service
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.studies.routing import (
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)

router = study_router("lesson studies: post-lesson discussion")
BASE = "/{study_id}/research-lessons/{lesson_id}/discussion"
PUPILS_FIRST: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "`what_to_change` before every case pupil has a reflection, or "
        "`next_lesson_plan` before `what_to_change` (the detail names the pupils still missing)."
    }
}


@router.post(
    BASE,
    status_code=201,
    response_model=schemas.DiscussionRead,
    summary="Start the post-lesson discussion",
    description="After the lesson is taught (and pupils interviewed). " + schemas.ORDER,
    responses={**WRITE_RESPONSES, **PUPILS_FIRST},
)
async def start_discussion(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    data: schemas.DiscussionInput,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    discussion = await service.start_discussion(
        session, study_id, lesson_id, principal=principal, data=data
    )
    _, lesson = await lessons_service.lesson_for(session, study_id, lesson_id, principal=principal)
    return resource_response(
        await service.discussion_read(session, lesson, discussion),
        status_code=201,
        location=f"{PREFIX}/{study_id}/research-lessons/{lesson_id}/discussion",
    )


@router.get(
    BASE,
    response_model=schemas.DiscussionRead,
    summary="Get the post-lesson discussion",
    description="404 until it has started.",
    responses=NOT_FOUND,
)
async def get_discussion(
    study_id: uuid.UUID, lesson_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await service.get_discussion(session, study_id, lesson_id, principal=principal)
    )


@router.patch(
    BASE,
    response_model=schemas.DiscussionRead,
    summary="Continue the post-lesson discussion",
    description="With If-Match. Add or rewrite reflections, then what to change, then the next "
    "lesson's plan. " + schemas.ORDER,
    responses={**PATCH_RESPONSES, **PUPILS_FIRST, 409: {"description": "The lesson is completed."}},
)
async def update_discussion(
    study_id: uuid.UUID,
    lesson_id: uuid.UUID,
    data: schemas.DiscussionInput,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_discussion(session, study_id, lesson_id, principal=principal)
    require_if_match(request, current)
    return resource_response(
        await service.update_discussion(
            session, study_id, lesson_id, principal=principal, data=data
        )
    )
