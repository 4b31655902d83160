"""``/v1/cpd-requests``: requests for a place on a run of the trust's offer or for support
with professional study, and their decisions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.cpd_requests import schemas, service
from cpd_evaluation.models.offer import CpdRequest
from cpd_evaluation.terms.offer import RequestStatus

PREFIX = "/v1/cpd-requests"
router = api_router(PREFIX, "cpd requests", roles=("staff", "school_leader", "trust_admin"))
TEXT = {
    403: "Only the requester or whoever decides it (a leader of the school; the trust team "
    "for trust-funded places) acts on a request.",
    404: "No such request among those you may see.",
    409: "The request is not open to that, the run is full, or you already asked.",
}


@router.get("", response_model=Page[schemas.RequestRead], summary="List requests")
async def list_requests(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[RequestStatus | None, Query()] = None,
    awaiting_me: Annotated[bool, Query(description="Submitted ones you decide.")] = False,
    mine: Annotated[bool, Query(description="Only your own.")] = False,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Any:
    rows, cursor = await paginate(
        session,
        service.list_query(
            principal=principal,
            status=status,
            awaiting_me=awaiting_me,
            mine=mine,
            school_id=school_id,
        ),
        CpdRequest.id,
        page,
    )
    return Page[schemas.RequestRead](
        items=await service.request_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.RequestRead,
    summary="Ask for a place or for support with study",
    responses=problems(403, 409, described=TEXT),
)
async def submit(
    data: schemas.RequestCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    request = await service.submit(session, principal=principal, data=data)
    return resource_response(
        await service.request_read(session, request),
        status_code=201,
        location=f"{PREFIX}/{request.id}",
    )


@router.get(
    "/{request_id}",
    response_model=schemas.RequestRead,
    summary="Get a request",
    responses=problems(404, described=TEXT),
)
async def get_request(
    request_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    request = await service.get_request(session, request_id, principal=principal)
    return resource_response(await service.request_read(session, request))


@router.post(
    "/{request_id}/decision",
    response_model=schemas.DecisionRead,
    summary="Approve or decline",
    description="Approving a place books it (never beyond capacity: 409 when full), adds "
    "the person to the run's activity and commits the cost against the school's budget; "
    "`warnings` says when that passes the budget.",
    responses=problems(403, 404, 409, described=TEXT),
)
async def decide(
    request_id: uuid.UUID, data: schemas.Decision, session: SessionDep, principal: PrincipalDep
) -> Any:
    request = await service.get_request(session, request_id, principal=principal, lock=True)
    return await service.decide(session, request, principal=principal, data=data)


@router.post(
    "/{request_id}/cancel",
    response_model=schemas.RequestRead,
    summary="Withdraw or cancel",
    description="Releases a booked place and the committed cost.",
    responses=problems(403, 404, 409, described=TEXT),
)
async def cancel(
    request_id: uuid.UUID,
    data: schemas.Cancellation,
    session: SessionDep,
    principal: PrincipalDep,
) -> Any:
    request = await service.get_request(session, request_id, principal=principal, lock=True)
    request = await service.cancel(session, request, principal=principal, reason=data.reason)
    return await service.request_read(session, request)
