"""HTTP endpoints of career plans (``/v1/career-plans``) and sharing them with a mentor."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from cpd_audit.career_plans import schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep

router = api_router("/v1/career-plans", "career plans")

PRIVATE = (
    "Private: only the owner and the mentors they share the plan with can read it; leaders and "
    "trust admins cannot, and to anyone else it does not exist (404). "
)


@router.post(
    "",
    status_code=201,
    response_model=schemas.CareerPlanRead,
    summary="Start my career plan",
    description=(
        "Creates a career plan and self-review owned by the caller: where I have come from, "
        "where I am, where I want to be in 3 and 5 years (qualifications, experience, skills, "
        "opportunities), strengths with their evidence, aspects to develop with how they were "
        "identified and the preferred CPD model, and an action plan. "
        + PRIVATE
        + "One plan per person and academic year (`start_year`): a second for the same year "
        "is 409. Honours `Idempotency-Key`."
    ),
    responses=problems(403, 409, 422),
)
async def create_plan(
    body: schemas.CareerPlanCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.create_plan(session, body, principal=principal)
    return resource_response(
        await service.read_plan(session, plan, principal=principal),
        status_code=201,
        location=f"/v1/career-plans/{plan.id}",
    )


@router.get(
    "",
    response_model=Page[schemas.CareerPlanRead],
    summary="List my career plans and those shared with me",
    description="Your own plans and the plans people share with you as their mentor. " + PRIVATE,
    responses=problems(403, 422),
)
async def list_plans(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    owner_id: Annotated[uuid.UUID | None, Query(description="Only plans of this owner")] = None,
) -> Page[schemas.CareerPlanRead]:
    plans, next_cursor = await service.list_plans(
        session, principal=principal, page=page, owner_id=owner_id
    )
    items = await service.read_plans(session, plans, principal=principal)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{plan_id}",
    response_model=schemas.CareerPlanRead,
    summary="Get a career plan",
    description=PRIVATE + "With an ETag.",
    responses=problems(404),
)
async def get_plan(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    return resource_response(await service.read_plan(session, plan, principal=principal))


@router.patch(
    "/{plan_id}",
    response_model=schemas.CareerPlanRead,
    summary="Change my career plan",
    description=(
        "Owner only (a mentor gets 403). Send only the sections that change; each replaces "
        "the whole section. Requires `If-Match` with the ETag of your last GET. Moving the "
        "plan to a year you already have a plan for is 409."
    ),
    responses=problems(403, 404, 409, 412, 422, 428),
)
async def update_plan(
    plan_id: uuid.UUID,
    body: schemas.CareerPlanUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    require_if_match(request, await service.read_plan(session, plan, principal=principal))
    plan = await service.update_plan(session, plan, body, principal=principal)
    return resource_response(await service.read_plan(session, plan, principal=principal))


@router.delete(
    "/{plan_id}",
    status_code=204,
    summary="Delete my career plan",
    description="Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale). Owner only.",
    responses=problems(403, 404, 412, 428),
)
async def delete_plan(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    require_if_match(request, await service.read_plan(session, plan, principal=principal))
    await service.delete_plan(session, plan, principal=principal)
    return Response(status_code=204)


@router.post(
    "/{plan_id}/share",
    status_code=201,
    response_model=schemas.ShareRead,
    summary="Share my career plan with a mentor",
    description=(
        "Lets a mentor (a person in your trust) read the plan, until you revoke it. 201 when "
        "newly shared, 200 when it already was. A mentor you share a plan with also sees your "
        "individual needs. Owner only."
    ),
    responses={
        200: {"model": schemas.ShareRead, "description": "Already shared"},
        **problems(403, 404, 422),
    },
)
async def share_plan(
    plan_id: uuid.UUID, body: schemas.ShareCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    share, created = await service.share_plan(session, plan, body, principal=principal)
    return resource_response(
        share,
        status_code=201 if created else 200,
        location=f"/v1/career-plans/{plan.id}/share/{share.mentor_id}",
    )


@router.get(
    "/{plan_id}/shares",
    response_model=list[schemas.ShareRead],
    summary="Who my career plan is shared with",
    description="Owner only.",
    responses=problems(403, 404),
)
async def list_shares(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> list[schemas.ShareRead]:
    plan = await service.get_plan(session, plan_id, principal=principal)
    return await service.list_shares(session, plan, principal=principal)


@router.get(
    "/{plan_id}/share/{mentor_id}",
    response_model=schemas.ShareRead,
    summary="One share of my career plan",
    description="Owner only; 404 when the plan is not shared with this person.",
    responses=problems(403, 404),
)
async def get_share(
    plan_id: uuid.UUID, mentor_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    return resource_response(await service.get_share(session, plan, mentor_id, principal=principal))


@router.delete(
    "/{plan_id}/share/{mentor_id}",
    status_code=204,
    summary="Stop sharing my career plan with a mentor",
    description="The mentor can no longer read the plan (404 for them from now on). "
    + "Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale). Owner only.",
    responses=problems(403, 404, 412, 428),
)
async def revoke_share(
    plan_id: uuid.UUID,
    mentor_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await service.get_plan(session, plan_id, principal=principal)
    require_if_match(
        request, await service.get_share(session, plan, mentor_id, principal=principal)
    )
    await service.revoke_share(session, plan, mentor_id, principal=principal)
    return Response(status_code=204)
