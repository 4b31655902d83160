"""HTTP endpoints of the three-year alignment framework (``/v1/alignment-plans``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from cpd_audit.alignment_plans import schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep

router = api_router("/v1/alignment-plans", "alignment plans")

ABOUT = (
    "The alignment framework lines up a school's improvement priorities with professional "
    "learning over three years: for each of two domains (pupil attainment, progress and "
    "achievement; ethos, engagement and wider development) and each year (this year, next "
    "year, the year after), the strengths, weaknesses, opportunities and threats. "
)


@router.post(
    "",
    status_code=201,
    response_model=schemas.AlignmentPlanRead,
    summary="Create an alignment plan",
    description=ABOUT
    + "One per school per starting year (409 for a second). Leaders of the school and trust "
    "admins only. Honours `Idempotency-Key`.",
    responses=problems(403, 409, 422),
)
async def create_plan(
    body: schemas.AlignmentPlanCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.create_plan(session, body, principal=principal)
    return resource_response(
        service.to_read(plan), status_code=201, location=f"/v1/alignment-plans/{plan.id}"
    )


@router.get(
    "",
    response_model=Page[schemas.AlignmentPlanRead],
    summary="List alignment plans",
    description="Alignment plans of the schools you belong to (every school for trust admins).",
    responses=problems(403, 422),
)
async def list_plans(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
    start_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[schemas.AlignmentPlanRead]:
    plans, next_cursor = await service.list_plans(
        session, principal=principal, page=page, school_id=school_id, start_year=start_year
    )
    return Page(items=[service.to_read(p) for p in plans], next_cursor=next_cursor)


@router.get(
    "/{plan_id}",
    response_model=schemas.AlignmentPlanRead,
    summary="Get an alignment plan",
    description=ABOUT + "Readable by the school's staff, governors and leaders; with an ETag.",
    responses=problems(404),
)
async def get_plan(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    return resource_response(service.to_read(plan))


@router.patch(
    "/{plan_id}",
    response_model=schemas.AlignmentPlanRead,
    summary="Edit an alignment plan",
    description=(
        "Changes the title, notes or grid cells. The grid is merged: send only the cells that "
        "change (`null` empties a cell). Requires `If-Match` with the ETag of your last GET: "
        "428 without it, 412 if someone changed the plan since. Leaders of the school and "
        "trust admins only."
    ),
    responses=problems(403, 404, 412, 422, 428),
)
async def update_plan(
    plan_id: uuid.UUID,
    body: schemas.AlignmentPlanUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    require_if_match(request, service.to_read(plan))
    plan = await service.update_plan(session, plan, body, principal=principal)
    return resource_response(service.to_read(plan))


@router.delete(
    "/{plan_id}",
    status_code=204,
    summary="Delete an alignment plan",
    description="Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale). Leaders of the school and trust admins only.",
    responses=problems(403, 404, 412, 428),
)
async def delete_plan(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    require_if_match(request, service.to_read(plan))
    await service.delete_plan(session, plan, principal=principal)
    return Response(status_code=204)
