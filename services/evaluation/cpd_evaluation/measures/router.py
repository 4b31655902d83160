"""``/v1/evaluations/{plan_id}/measures``: what a plan measures at baseline and after."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.evaluations.access import get_plan
from cpd_evaluation.evaluations.routing import PREFIX, plan_router
from cpd_evaluation.measures import schemas, service
from cpd_evaluation.models.measures import Measure

MEASURE_PROBLEMS = {
    403: "Governors read measures; only leaders and trust admins change them.",
    404: "No such plan or measure that you may see: also the answer for another trust's.",
    409: "The plan has a measure of that name, or the change would contradict recorded "
    "observations (kind, subjects or a scale that excludes recorded values).",
}
NOT_FOUND = problems(404, described=MEASURE_PROBLEMS)
WRITE_RESPONSES = problems(403, 404, 409, 412, 428, described=MEASURE_PROBLEMS)

router = plan_router("measures")


def _location(measure: Measure) -> str:
    return f"{PREFIX}/{measure.plan_id}/measures/{measure.id}"


@router.get(
    "/{plan_id}/measures",
    response_model=Page[schemas.MeasureRead],
    summary="List a plan's measures",
    description="Each with how many subjects have a value at each phase.",
    responses=NOT_FOUND,
)
async def list_measures(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    plan = await get_plan(session, plan_id, principal=principal)
    rows, cursor = await paginate(session, service.list_query(plan), Measure.id, page)
    return Page[schemas.MeasureRead](
        items=await service.measure_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "/{plan_id}/measures",
    status_code=201,
    response_model=schemas.MeasureRead,
    summary="Add a measure to a plan",
    description="A test score, teacher assessment, observation rating, work-sample rating, "
    "pupil attitude survey, attendance, behaviour points, staff survey item or staff "
    "confidence, with its scale and whether higher is better. Values are then recorded at "
    "`/v1/measures/{id}/observations`.",
    responses={
        **problems(403, 404, 409, described=MEASURE_PROBLEMS),
        422: {"description": "Invalid measure (e.g. a pupil kind measuring staff)."},
    },
)
async def create_measure(
    plan_id: uuid.UUID, data: schemas.MeasureCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    measure = await service.create_measure(session, plan, principal=principal, data=data)
    return resource_response(
        await service.measure_read(session, measure), status_code=201, location=_location(measure)
    )


@router.get(
    "/{plan_id}/measures/{measure_id}",
    response_model=schemas.MeasureRead,
    summary="Get a measure",
    responses=NOT_FOUND,
)
async def get_measure(
    plan_id: uuid.UUID, measure_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    measure = await service.get_measure(session, measure_id, principal=principal, plan_id=plan_id)
    return resource_response(await service.measure_read(session, measure))


@router.patch(
    "/{plan_id}/measures/{measure_id}",
    response_model=schemas.MeasureRead,
    summary="Change a measure",
    description="With If-Match. Kind and subjects are fixed once the measure holds "
    "observations; a new scale must contain every recorded value.",
    responses=WRITE_RESPONSES,
)
async def update_measure(
    plan_id: uuid.UUID,
    measure_id: uuid.UUID,
    data: schemas.MeasureUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    measure = await service.get_measure(
        session, measure_id, principal=principal, plan_id=plan_id, write=True
    )
    require_if_match(request, await service.measure_read(session, measure))
    measure = await service.update_measure(session, measure, data=data)
    return resource_response(await service.measure_read(session, measure))


@router.delete(
    "/{plan_id}/measures/{measure_id}",
    status_code=204,
    summary="Delete a measure and its observations",
    description="With If-Match.",
    responses=WRITE_RESPONSES,
)
async def delete_measure(
    plan_id: uuid.UUID,
    measure_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    measure = await service.get_measure(
        session, measure_id, principal=principal, plan_id=plan_id, write=True
    )
    require_if_match(request, await service.measure_read(session, measure))
    await service.delete_measure(session, measure)
    return Response(status_code=204)
