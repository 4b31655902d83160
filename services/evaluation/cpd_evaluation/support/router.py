"""``/v1/evaluations/{id}/support``: organisational support recorded by leaders (level 3)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.evaluations.access import EVIDENCE_READERS, get_plan
from cpd_evaluation.evaluations.routing import PREFIX, plan_router
from cpd_evaluation.models.evidence import SupportRecord
from cpd_evaluation.support import schemas, service

DESCRIBED = {
    403: "Leaders of the plan's schools and trust admins only (governors read the report).",
    404: "No such plan or record that you may see: also the answer for another trust's.",
}

router = plan_router(prefix=PREFIX + "/{plan_id}/support", readers=EVIDENCE_READERS)


@router.get(
    "",
    response_model=Page[schemas.SupportRead],
    summary="Organisational support given to the evaluated CPD",
    description="Evaluation level 3: time given, resources and barriers, as leaders recorded "
    "them, oldest first.",
    responses=problems(403, 404, described=DESCRIBED),
)
async def list_support(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    plan = await get_plan(session, plan_id, principal=principal)
    rows, cursor = await paginate(session, service.list_query(plan), SupportRecord.id, page)
    return Page[schemas.SupportRead](
        items=[service.support_read(r) for r in rows], next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.SupportRead,
    summary="Record organisational support",
    description="Hours of time given, resources, barriers met, notes: at least one of them.",
    responses=problems(
        403,
        404,
        409,
        described={
            **DESCRIBED,
            409: "The same Idempotency-Key was used with a different request body.",
        },
    ),
)
async def create_support(
    plan_id: uuid.UUID, data: schemas.SupportCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    record = await service.create_record(session, plan, principal=principal, data=data)
    return resource_response(
        service.support_read(record),
        status_code=201,
        location=f"{PREFIX}/{plan.id}/support/{record.id}",
    )


@router.get(
    "/{record_id}",
    response_model=schemas.SupportRead,
    summary="Get a support record",
    responses=problems(403, 404, described=DESCRIBED),
)
async def get_support(
    plan_id: uuid.UUID, record_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    return resource_response(
        service.support_read(await service.get_record(session, plan, record_id))
    )


@router.patch(
    "/{record_id}",
    response_model=schemas.SupportRead,
    summary="Change a support record",
    description="With If-Match.",
    responses=problems(403, 404, 412, 428, described=DESCRIBED),
)
async def update_support(
    plan_id: uuid.UUID,
    record_id: uuid.UUID,
    data: schemas.SupportUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    record = await service.get_record(session, plan, record_id, write=True)
    require_if_match(request, service.support_read(record))
    record = await service.update_record(session, record, data=data)
    return resource_response(service.support_read(record))


@router.delete(
    "/{record_id}",
    status_code=204,
    summary="Delete a support record",
    description="With If-Match.",
    responses=problems(403, 404, 412, 428, described=DESCRIBED),
)
async def delete_support(
    plan_id: uuid.UUID,
    record_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    record = await service.get_record(session, plan, record_id, write=True)
    require_if_match(request, service.support_read(record))
    await service.delete_record(session, record)
    return Response(status_code=204)
