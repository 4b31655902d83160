"""``/v1/evaluations``: evaluation plans, one per activity or programme."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.evaluations import schemas, service
from cpd_evaluation.evaluations.access import get_plan
from cpd_evaluation.evaluations.routing import PREFIX, plan_router
from cpd_evaluation.models.plans import EvaluationPlan
from cpd_evaluation.terms.plans import PlanStatus

PLAN_PROBLEMS = {
    403: "Governors read plans; only leaders and trust admins change them. Taking an "
    "activity out of a plan (or deleting the plan) needs the right to manage that activity.",
    404: "No such plan that you may see: also the answer for another trust's.",
    409: "An activity already belongs to another plan or is cancelled, or the status would "
    "go back.",
}
NOT_FOUND = problems(404, described=PLAN_PROBLEMS)
PATCH_RESPONSES = problems(403, 404, 409, 412, 428, described=PLAN_PROBLEMS)

router = plan_router()


@router.get(
    "",
    response_model=Page[schemas.PlanRead],
    summary="List evaluation plans you can see",
    description="Trust admins see every plan of the trust; leaders and governors the plans "
    "covering activities of their schools.",
)
async def list_plans(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    activity_id: Annotated[
        uuid.UUID | None, Query(description="The plan covering this activity")
    ] = None,
    status: Annotated[PlanStatus | None, Query()] = None,
) -> Any:
    stmt = service.list_query(principal=principal, activity_id=activity_id, status=status)
    rows, cursor = await paginate(session, stmt, EvaluationPlan.id, page)
    return Page[schemas.PlanRead](items=await service.plan_reads(session, rows), next_cursor=cursor)


@router.post(
    "",
    status_code=201,
    response_model=schemas.PlanRead,
    summary="Plan the evaluation of an activity or programme",
    description="The evaluation tool's prompts: the design check, intended outcomes, baseline "
    "and the data to gather at each point, analysis, reporting and the levels covered. "
    "`warnings` name what a sound evaluation would have (no baseline, outcome data that does "
    "not mirror it, only reactions); the plan is kept all the same.",
    responses={
        **problems(409, described=PLAN_PROBLEMS),
        403: {"description": "Governors cannot write evaluation plans."},
        422: {"description": "Unknown activity, or one of a school you do not lead."},
    },
)
async def create_plan(
    data: schemas.PlanCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.create_plan(session, principal=principal, data=data)
    return resource_response(
        await service.plan_read(session, plan), status_code=201, location=f"{PREFIX}/{plan.id}"
    )


@router.get(
    "/{plan_id}",
    response_model=schemas.PlanRead,
    summary="Get an evaluation plan",
    responses=NOT_FOUND,
)
async def get_plan_route(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    return resource_response(await service.plan_read(session, plan))


@router.patch(
    "/{plan_id}",
    response_model=schemas.PlanRead,
    summary="Change an evaluation plan or move its status on",
    description="With If-Match. `activity_ids`, when given, is the whole list. `status` moves "
    "forward only (planned, baseline_captured, short_term_captured, medium_term_captured, "
    "reported): a step back is a 409.",
    responses=PATCH_RESPONSES,
)
async def update_plan(
    plan_id: uuid.UUID,
    data: schemas.PlanUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    require_if_match(request, await service.plan_read(session, plan))
    plan = await service.update_plan(session, plan, principal=principal, data=data)
    return resource_response(await service.plan_read(session, plan))


@router.delete(
    "/{plan_id}",
    status_code=204,
    summary="Delete an evaluation plan",
    description="With If-Match. Its activities are free for another plan.",
    responses=PATCH_RESPONSES,
)
async def delete_plan(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    require_if_match(request, await service.plan_read(session, plan))
    await service.delete_plan(session, plan, principal=principal)
    return Response(status_code=204)
