"""HTTP endpoints of audits (``/v1/audits``): rounds and their life cycle."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from cpd_audit.audits import counts, lifecycle, schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, SearchDep, SortKey

router = api_router("/v1/audits", "audits")

VISIBILITY = (
    "Trust admins see every audit of their trust; leaders, staff and governors the audits "
    "covering one of their schools (drafts only leaders). Anything else answers 404."
)


@router.post(
    "",
    status_code=201,
    response_model=schemas.AuditRead,
    summary="Create an audit (draft)",
    description=(
        "A round of an instrument version (the latest when `instrument_version` is absent) "
        "for one school, several schools or the whole trust, answered by the staff groups in "
        "`audience`. `min_group_size` (default 5, never below 3) is the smallest group whose "
        "results are shown. Trust admins (any scope) and school leaders (their own schools). "
        "The audit starts as a draft: open it to take responses. Honours `Idempotency-Key`."
    ),
    responses=problems(403, 422),
)
async def create_audit(
    body: schemas.AuditCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    audit = await service.create_audit(session, body, principal=principal)
    read = await service.read_audit(session, audit, principal=principal)
    return resource_response(read, status_code=201, location=f"/v1/audits/{audit.id}")


@router.get(
    "",
    response_model=Page[schemas.AuditRead],
    summary="List audits",
    description="Audits you may see, filtered; `?awaiting_me=true` lists those waiting for "
    "your response. Each carries `me`, your own part in it (whether you were in its frozen "
    "audience and have responded), shown to you alone. `q` searches title and description. "
    + VISIBILITY,
    responses=problems(403, 422),
)
async def list_audits(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: Annotated[SortKey, Depends(service.SORTS)],
    q: SearchDep = None,
    status: Annotated[schemas.AuditStatus | None, Query()] = None,
    school_id: Annotated[uuid.UUID | None, Query(description="Audits covering this school")] = None,
    instrument_id: Annotated[uuid.UUID | None, Query()] = None,
    awaiting_me: Annotated[
        bool | None,
        Query(
            description="true: the open audits waiting for your response (you were in the "
            "audience when they opened and have not responded); false: the others."
        ),
    ] = None,
) -> Page[schemas.AuditRead]:
    audits, next_cursor = await service.list_audits(
        session,
        principal=principal,
        page=page,
        sort=sort,
        q=q,
        status=status,
        school_id=school_id,
        instrument_id=instrument_id,
        awaiting_me=awaiting_me,
    )
    return Page(
        items=await service.read_audits(session, audits, principal=principal),
        next_cursor=next_cursor,
    )


@router.get(
    "/{audit_id}",
    response_model=schemas.AuditRead,
    summary="Get an audit",
    description="One audit with an ETag. " + VISIBILITY,
    responses=problems(403, 404),
)
async def get_audit(audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    audit = await service.get_audit(session, audit_id, principal=principal)
    return resource_response(await service.read_audit(session, audit, principal=principal))


@router.patch(
    "/{audit_id}",
    response_model=schemas.AuditRead,
    summary="Change an audit",
    description=(
        "Title and description at any time; scope, audience, dates and minimum group size "
        "while it is a draft (409 after). Requires `If-Match`. Trust admins, and school "
        "leaders who lead every school in the scope."
    ),
    responses=problems(403, 404, 409, 412, 422, 428),
)
async def update_audit(
    audit_id: uuid.UUID,
    body: schemas.AuditUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    audit = await service.get_audit(session, audit_id, principal=principal)
    require_if_match(request, await service.read_audit(session, audit, principal=principal))
    audit = await service.update_audit(session, audit, body, principal=principal)
    return resource_response(await service.read_audit(session, audit, principal=principal))


@router.delete(
    "/{audit_id}",
    status_code=204,
    summary="Delete a draft audit",
    description=(
        "Only drafts: an open or closed audit is a record people answered (409). Requires "
        "`If-Match` with the audit's ETag (428 without it, 412 when stale). Needs linked to "
        "the draft's items stay in the register without the link. Trust admins, and school "
        "leaders who lead every school in the scope."
    ),
    responses=problems(403, 404, 409, 412, 428),
)
async def delete_audit(
    audit_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    audit = await service.get_audit(session, audit_id, principal=principal)
    require_if_match(request, await service.read_audit(session, audit, principal=principal))
    await service.delete_draft(session, audit, principal=principal)
    return Response(status_code=204)


@router.post(
    "/{audit_id}/open",
    response_model=schemas.AuditRead,
    summary="Open an audit for responses",
    description=(
        "draft -> open (409 from any other state). Counts the audience and publishes "
        "`audit.audit.opened`. Trust admins, and school leaders who lead every school in the "
        "scope."
    ),
    responses=problems(403, 404, 409),
)
async def open_audit(audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    audit = await lifecycle.open_audit(session, audit_id, principal=principal)
    return resource_response(await service.read_audit(session, audit, principal=principal))


@router.post(
    "/{audit_id}/close",
    response_model=schemas.AuditRead,
    summary="Close an audit",
    description=(
        "open -> closed (409 from any other state). Publishes `audit.audit.closed` with the "
        "per-item aggregates exactly as the results show them (small groups withheld). "
        "Staff and governors of the audit's schools can then read the results."
    ),
    responses=problems(403, 404, 409),
)
async def close_audit(
    audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    audit = await lifecycle.close_audit(session, audit_id, principal=principal)
    return resource_response(await service.read_audit(session, audit, principal=principal))


@router.get(
    "/{audit_id}/responses/counts",
    response_model=schemas.ResponseCounts,
    summary="How many have responded",
    description=(
        "Responses in all, per school, per staff group and per school and staff group, with "
        "cells under the minimum group size withheld (and complementary cells, so none can be "
        "worked out from the totals). Never who has or has not responded. Leaders of the "
        "audit's schools and trust admins."
    ),
    responses=problems(403, 404),
)
async def response_counts(
    audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> schemas.ResponseCounts:
    audit = await service.get_audit(session, audit_id, principal=principal)
    return await counts.response_counts(session, audit, principal=principal)
