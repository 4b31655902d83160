"""HTTP endpoints of private self-audits (``/v1/self-audits``)."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from cpd_audit.self_audits import schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep

router = api_router("/v1/self-audits", "self-audits")

PRIVATE = (
    "Private: only you can read it; anyone else (a leader or a trust admin too) gets 404. A "
    "self-audit never enters any audit's results or any other aggregate."
)


@router.post(
    "",
    status_code=201,
    response_model=schemas.SelfAuditRead,
    summary="Answer an instrument for yourself",
    description=(
        "The audit tool used alone, to reflect: answer any built-in instrument (or one of your "
        "trust's) as you would in an audit; every problem is listed in a 422. Paired items "
        "come back with your gap between values and practice, largest first. Honours "
        "`Idempotency-Key`. " + PRIVATE
    ),
    responses=problems(403, 422),
)
async def create_self_audit(
    body: schemas.SelfAuditCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    self_audit = await service.create(session, body, principal=principal)
    return resource_response(
        await service.read(session, self_audit),
        status_code=201,
        location=f"/v1/self-audits/{self_audit.id}",
    )


@router.get(
    "",
    response_model=Page[schemas.SelfAuditRead],
    summary="My self-audits",
    description="Your own self-audits, oldest first. " + PRIVATE,
    responses=problems(403, 422),
)
async def list_self_audits(
    session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[schemas.SelfAuditRead]:
    found, next_cursor = await service.list_mine(session, principal=principal, page=page)
    return Page(items=[await service.read(session, s) for s in found], next_cursor=next_cursor)


@router.get(
    "/{self_audit_id}",
    response_model=schemas.SelfAuditRead,
    summary="One of my self-audits",
    description="With an ETag. " + PRIVATE,
    responses=problems(403, 404),
)
async def get_self_audit(
    self_audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    found = await service.get(session, self_audit_id, principal=principal)
    return resource_response(await service.read(session, found))


@router.delete(
    "/{self_audit_id}",
    status_code=204,
    summary="Delete one of my self-audits",
    description="Requires `If-Match` with the ETag of your last GET (428 without it, 412 when "
    "stale). " + PRIVATE,
    responses=problems(403, 404, 412, 428),
)
async def delete_self_audit(
    self_audit_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    found = await service.get(session, self_audit_id, principal=principal)
    require_if_match(request, await service.read(session, found))
    await service.delete_self_audit(session, found)
    return Response(status_code=204)
