"""``/v1/evaluations/{plan_id}/lesson-studies`` and ``/case-pupils``: lesson studies as outcome
evidence, and how their case pupils moved from the first research lesson to the last."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_evaluation.case_pupils import schemas, service
from cpd_evaluation.evaluations.access import get_plan
from cpd_evaluation.evaluations.routing import plan_router

STUDY_PROBLEMS = {
    403: "Governors read the links; only leaders and trust admins change them.",
    404: "No such plan that you may see: also the answer for another trust's.",
    422: "A study that is not a lesson study of your trust (of a school you lead).",
}

router = plan_router()


@router.get(
    "/{plan_id}/lesson-studies",
    response_model=schemas.LessonStudiesRead,
    summary="The lesson studies whose case pupils are evidence for the plan",
    responses=problems(404, described=STUDY_PROBLEMS),
)
async def get_lesson_studies(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    return resource_response(await service.studies_read(session, plan))


@router.put(
    "/{plan_id}/lesson-studies",
    response_model=schemas.LessonStudiesRead,
    summary="Link lesson studies to the plan",
    description="The whole list. `If-Match` is optional and, when sent, must match the "
    "current list.",
    responses=problems(403, 404, 412, 422, described=STUDY_PROBLEMS),
)
async def put_lesson_studies(
    plan_id: uuid.UUID,
    data: schemas.LessonStudiesSet,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    if request.headers.get("if-match"):
        require_if_match(request, await service.studies_read(session, plan))
    await service.set_studies(session, plan, principal=principal, data=data)
    return resource_response(await service.studies_read(session, plan))


@router.get(
    "/{plan_id}/case-pupils",
    response_model=schemas.CasePupilsRead,
    summary="Case pupils' outcomes in the plan's lesson studies",
    description="Per linked lesson study: its first and last research lessons and, per case "
    "pupil (a label, never a name), the stages whose success criteria they met, partly met "
    "or had not yet met in each, and the change in stages met.",
    responses=problems(404, described=STUDY_PROBLEMS),
)
async def get_case_pupils(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    return resource_response(await service.case_pupils(session, plan))
