"""HTTP endpoints of strategic CPD plans (``/v1/cpd-plans``) and their rows."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from cpd_audit.cpd_plans import schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep

router = api_router("/v1/cpd-plans", "CPD plans")

ABOUT = (
    "A school's strategic CPD plan for one academic year: rows that link the school's needs "
    "to planned CPD by month (what, who is responsible, the cost and the funding source), "
    "with totals per month (every month September to August), per need, per funding source "
    "and overall. Only leaders of the school and trust admins see and write it. "
)


@router.post(
    "",
    status_code=201,
    response_model=schemas.CpdPlanRead,
    summary="Create a CPD plan",
    description=ABOUT
    + "One per school per academic year (409 for a second). Rows may be given at once. "
    "Honours `Idempotency-Key`.",
    responses=problems(403, 409, 422),
)
async def create_plan(
    body: schemas.CpdPlanCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.create_plan(session, body, principal=principal)
    return resource_response(
        await service.plan_read(session, plan),
        status_code=201,
        location=f"/v1/cpd-plans/{plan.id}",
    )


@router.get(
    "",
    response_model=Page[schemas.CpdPlanSummary],
    summary="List CPD plans",
    description="CPD plans of the schools you lead (every school for trust admins), without "
    "rows and totals.",
    responses=problems(403, 422),
)
async def list_plans(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
    start_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[schemas.CpdPlanSummary]:
    plans, next_cursor = await service.list_plans(
        session, principal=principal, page=page, school_id=school_id, start_year=start_year
    )
    return Page(items=[service.summary(p) for p in plans], next_cursor=next_cursor)


@router.get(
    "/{plan_id}",
    response_model=schemas.CpdPlanRead,
    summary="Get a CPD plan with its rows and totals",
    description=ABOUT + "With an ETag.",
    responses=problems(404),
)
async def get_plan(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    return resource_response(await service.plan_read(session, plan))


@router.patch(
    "/{plan_id}",
    response_model=schemas.CpdPlanRead,
    summary="Change a CPD plan's title or notes",
    description="Requires `If-Match` with the plan's ETag (428 without it, 412 when stale). "
    "Rows are changed through `/rows`.",
    responses=problems(404, 412, 422, 428),
)
async def update_plan(
    plan_id: uuid.UUID,
    body: schemas.CpdPlanUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    require_if_match(request, await service.plan_read(session, plan))
    plan = await service.update_plan(session, plan, body)
    return resource_response(await service.plan_read(session, plan))


@router.delete(
    "/{plan_id}",
    status_code=204,
    summary="Delete a CPD plan",
    description="Deletes the plan and its rows (the needs stay in the register). "
    + "Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale).",
    responses=problems(404, 412, 428),
)
async def delete_plan(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    require_if_match(request, await service.plan_read(session, plan))
    await service.delete_plan(session, plan)
    return Response(status_code=204)


@router.post(
    "/{plan_id}/rows",
    status_code=201,
    response_model=schemas.CpdPlanRowRead,
    summary="Add a row to a CPD plan",
    description="Plans a piece of CPD against one of the school's needs in a month of the "
    "plan's academic year. Honours `Idempotency-Key`.",
    responses=problems(404, 422),
)
async def add_row(
    plan_id: uuid.UUID,
    body: schemas.CpdPlanRowCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    row = await service.add_row(session, plan, body, principal=principal)
    return resource_response(
        service.row_read(row),
        status_code=201,
        location=f"/v1/cpd-plans/{plan.id}/rows/{row.id}",
    )


@router.get(
    "/{plan_id}/rows/{row_id}",
    response_model=schemas.CpdPlanRowRead,
    summary="Get a row of a CPD plan",
    description="One row, with an ETag.",
    responses=problems(404),
)
async def get_row(
    plan_id: uuid.UUID, row_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    row = await service.get_row(session, plan, row_id)
    return resource_response(service.row_read(row))


@router.patch(
    "/{plan_id}/rows/{row_id}",
    response_model=schemas.CpdPlanRowRead,
    summary="Change a row of a CPD plan",
    description="Send only what changes. Requires `If-Match` with the row's ETag.",
    responses=problems(404, 412, 422, 428),
)
async def update_row(
    plan_id: uuid.UUID,
    row_id: uuid.UUID,
    body: schemas.CpdPlanRowUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    row = await service.get_row(session, plan, row_id)
    require_if_match(request, service.row_read(row))
    row = await service.update_row(session, plan, row, body, principal=principal)
    return resource_response(service.row_read(row))


@router.delete(
    "/{plan_id}/rows/{row_id}",
    status_code=204,
    summary="Delete a row of a CPD plan",
    description="Removes the planned CPD from the plan. "
    + "Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale). (the row's ETag)",
    responses=problems(404, 412, 428),
)
async def delete_row(
    plan_id: uuid.UUID,
    row_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    row = await service.get_row(session, plan, row_id)
    require_if_match(request, service.row_read(row))
    await service.delete_row(session, plan, row)
    return Response(status_code=204)
