"""HTTP endpoints of the needs register (``/v1/needs``) and the accept flow for an audit's
suggested needs (``/v1/audits/{id}/suggested-needs/accept``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from cpd_audit.needs import schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, SearchDep, SortKey

router = api_router("/v1/needs", "needs")
accept_router = api_router("/v1/audits", "needs")

VISIBILITY = (
    "Whole-school and team needs are visible to the school's staff, governors and leaders and "
    "to trust admins. Individual needs are visible only to the person, their line manager, a "
    "mentor they share their career plan with, leaders of the school and trust admins; anyone "
    "else gets 404."
)


@router.post(
    "",
    status_code=201,
    response_model=schemas.NeedRead,
    summary="Record a need",
    description=(
        "Adds a professional-learning need to the register at one of three levels: the whole "
        "school, a team (phase, department or subject: `team_kind` and `team_name`) or one "
        "person (`person_id`). A need is a matter of knowledge, skills and/or attitudes, with "
        "its evidence (sources from the needs-analysis list, with notes), a priority, intended "
        "outcomes for the short, medium and long term, a status and links to audit items. "
        "Leaders record needs of their schools; staff record their own individual needs and "
        "those of people they line-manage. Publishes `audit.need.recorded`. "
        "Honours `Idempotency-Key`."
    ),
    responses=problems(403, 422),
)
async def record_need(
    body: schemas.NeedCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    need = await service.record_need(session, body, principal=principal)
    read = await service.read_need(session, need)
    return resource_response(read, status_code=201, location=f"/v1/needs/{need.id}")


@router.get(
    "",
    response_model=Page[schemas.NeedRead],
    summary="List needs",
    description="The needs register, filtered; only the needs you may see. `q` searches "
    "title, description and team name. " + VISIBILITY,
    responses=problems(403, 422),
)
async def list_needs(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: Annotated[SortKey, Depends(service.SORTS)],
    q: SearchDep = None,
    school_id: Annotated[uuid.UUID | None, Query(description="Only this school's needs")] = None,
    level: Annotated[schemas.NeedLevel | None, Query()] = None,
    status: Annotated[schemas.NeedStatus | None, Query()] = None,
    priority: Annotated[schemas.Priority | None, Query()] = None,
    person_id: Annotated[uuid.UUID | None, Query(description="Individual needs of")] = None,
    need_type: Annotated[schemas.NeedType | None, Query()] = None,
    audit_id: Annotated[
        uuid.UUID | None, Query(description="Needs linked to items of this audit")
    ] = None,
) -> Page[schemas.NeedRead]:
    needs, next_cursor = await service.list_needs(
        session,
        principal=principal,
        page=page,
        sort=sort,
        q=q,
        school_id=school_id,
        level=level,
        status=status,
        priority=priority,
        person_id=person_id,
        need_type=need_type,
        audit_id=audit_id,
    )
    return Page(items=await service.read_needs(session, needs), next_cursor=next_cursor)


@router.get(
    "/{need_id}",
    response_model=schemas.NeedRead,
    summary="Get a need",
    description="One need, with an ETag. " + VISIBILITY,
    responses=problems(404),
)
async def get_need(need_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    need = await service.get_need(session, need_id, principal=principal)
    return resource_response(await service.read_need(session, need))


@router.patch(
    "/{need_id}",
    response_model=schemas.NeedRead,
    summary="Change a need",
    description=(
        "Changes a need's wording, types, evidence, priority, outcomes, status or audit links "
        "(send only what changes). Requires `If-Match` with the ETag of your last GET. Leaders "
        "of the school and trust admins may change any need; for an individual need, also the "
        "person and their line manager."
    ),
    responses=problems(403, 404, 412, 422, 428),
)
async def update_need(
    need_id: uuid.UUID,
    body: schemas.NeedUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    need = await service.get_need(session, need_id, principal=principal)
    require_if_match(request, await service.read_need(session, need))
    need = await service.update_need(session, need, body, principal=principal)
    return resource_response(await service.read_need(session, need))


@accept_router.post(
    "/{audit_id}/suggested-needs/accept",
    status_code=201,
    response_model=schemas.NeedRead,
    summary="Accept a suggested need",
    description=(
        "Turns one of the audit's suggested needs (see `GET /v1/audits/{id}/suggested-needs`) "
        "into a whole-school or team need, with the audit item linked and its figures as "
        "evidence; anything in the body overrides the suggestion's wording. Leaders of the "
        "school and trust admins only. One need per audit item, school and team (a database "
        "constraint holds it, so concurrent accepts make one need): a second accept is 409 "
        "with the existing need's id in `need_id`, even when that need was dropped (reopen it "
        "by changing its status). Publishes `audit.need.recorded`. Honours `Idempotency-Key`."
    ),
    responses=problems(403, 404, 409, 422),
)
async def accept_suggested_need(
    audit_id: uuid.UUID,
    body: schemas.SuggestionAccept,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    need = await service.accept_suggestion(session, audit_id, body, principal=principal)
    read = await service.read_need(session, need)
    return resource_response(read, status_code=201, location=f"/v1/needs/{need.id}")
