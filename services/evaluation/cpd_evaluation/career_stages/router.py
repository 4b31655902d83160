"""``/v1/career-stages``: the trust's progression ladder for teaching and support staff."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_evaluation.career_stages import schemas, service

PREFIX = "/v1/career-stages"
router = api_router(PREFIX, "career stages", roles=("staff", "school_leader", "trust_admin"))
TEXT = {
    403: "Only trust admins edit the ladder.",
    404: "No such rung in your trust's ladder.",
    409: "A rung with that key exists, or programmes are offered to this rung.",
}


@router.get(
    "",
    response_model=schemas.Ladder,
    summary="Your trust's progression ladder",
    description="Rungs for teaching and for support staff, and the caller's own rung "
    "(matched from the directory's staff group and career stage). A trust starts with a "
    "default ladder its admins can change.",
)
async def list_stages(session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.read_ladder(session, principal)


@router.post(
    "",
    status_code=201,
    response_model=schemas.CareerStageRead,
    summary="Add a rung",
    responses=problems(403, 409, described=TEXT),
)
async def create_stage(
    data: schemas.CareerStageCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    stage = await service.create_stage(session, principal=principal, data=data)
    return resource_response(
        service.stage_read(stage), status_code=201, location=f"{PREFIX}/{stage.id}"
    )


@router.get(
    "/{stage_id}",
    response_model=schemas.CareerStageRead,
    summary="Get a rung",
    responses=problems(404, described=TEXT),
)
async def get_stage(stage_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    return resource_response(
        service.stage_read(await service.get_stage(session, stage_id, principal=principal))
    )


@router.patch(
    "/{stage_id}",
    response_model=schemas.CareerStageRead,
    summary="Change a rung",
    description="With If-Match.",
    responses=problems(403, 404, 412, 428, described=TEXT),
)
async def update_stage(
    stage_id: uuid.UUID,
    data: schemas.CareerStageUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    stage = await service.get_stage(session, stage_id, principal=principal, write=True)
    require_if_match(request, service.stage_read(stage))
    stage = await service.update_stage(session, stage, data=data)
    return resource_response(service.stage_read(stage))


@router.delete(
    "/{stage_id}",
    status_code=204,
    summary="Remove a rung",
    description="With If-Match; not while programmes are offered to it (409).",
    responses=problems(403, 404, 409, 412, 428, described=TEXT),
)
async def delete_stage(
    stage_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    stage = await service.get_stage(session, stage_id, principal=principal, write=True)
    require_if_match(request, service.stage_read(stage))
    await service.delete_stage(session, stage)
    return Response(status_code=204)
