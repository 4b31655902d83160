"""``/v1/providers``: who provides CPD, the four questions asked of them, and what the trust
had from each."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from cpd_common.auth import PrincipalDep, require_roles
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.models.voice import Provider
from cpd_evaluation.providers import schemas, service
from cpd_evaluation.terms.voice import ProviderKind

PREFIX = "/v1/providers"
router = api_router(PREFIX, "providers", roles=("staff", "school_leader", "trust_admin"))
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such provider in your trust."}
}
MANAGERS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Only leaders and trust admins manage providers."}
}
PRECONDITIONS: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match does not match the current ETag."},
    428: {"description": "If-Match is missing."},
}


@router.get("", response_model=Page[schemas.ProviderRead], summary="List your trust's providers")
async def list_providers(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    kind: Annotated[ProviderKind | None, Query()] = None,
) -> Any:
    rows, cursor = await paginate(
        session, service.list_query(principal=principal, kind=kind), Provider.id, page
    )
    return Page[schemas.ProviderRead](
        items=[service.provider_read(p) for p in rows], next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.ProviderRead,
    summary="Record a provider",
    description="With the answers to the four questions a school should ask of a provider. "
    "One name per trust (409).",
    responses={**MANAGERS, 409: {"description": "A provider of that name exists."}},
)
async def create_provider(
    data: schemas.ProviderCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    provider = await service.create_provider(session, principal=principal, data=data)
    return resource_response(
        service.provider_read(provider), status_code=201, location=f"{PREFIX}/{provider.id}"
    )


@router.get(
    "/{provider_id}",
    response_model=schemas.ProviderRead,
    summary="Get a provider",
    responses=NOT_FOUND,
)
async def get_provider(
    provider_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    provider = await service.get_provider(session, provider_id, principal=principal)
    return resource_response(service.provider_read(provider))


@router.patch(
    "/{provider_id}",
    response_model=schemas.ProviderRead,
    summary="Change a provider",
    description="With If-Match.",
    responses={
        **NOT_FOUND,
        **MANAGERS,
        **PRECONDITIONS,
        409: {"description": "A provider of that name exists."},
    },
)
async def update_provider(
    provider_id: uuid.UUID,
    data: schemas.ProviderUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    provider = await service.get_provider(session, provider_id, principal=principal, lock=True)
    require_if_match(request, service.provider_read(provider))
    provider = await service.update_provider(session, provider, principal=principal, data=data)
    return resource_response(service.provider_read(provider))


@router.delete(
    "/{provider_id}",
    status_code=204,
    summary="Delete a provider",
    description="With If-Match; not while activities name it (409).",
    responses={
        **NOT_FOUND,
        **MANAGERS,
        **PRECONDITIONS,
        409: {"description": "Activities name this provider."},
    },
)
async def delete_provider(
    provider_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    provider = await service.get_provider(session, provider_id, principal=principal, lock=True)
    require_if_match(request, service.provider_read(provider))
    await service.delete_provider(session, provider, principal=principal)
    return Response(status_code=204)


@router.get(
    "/{provider_id}/summary",
    response_model=schemas.ProviderSummary,
    summary="What the trust had from this provider",
    description="Leaders and trust admins: activities, participants, hours, cost per "
    "participant hour and feedback (from released results only; withheld below 5).",
    responses={**NOT_FOUND, **MANAGERS},
    dependencies=[Depends(require_roles("school_leader", "trust_admin"))],
)
async def provider_summary(
    provider_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Any:
    provider = await service.get_provider(session, provider_id, principal=principal)
    return await service.summary(session, provider)
