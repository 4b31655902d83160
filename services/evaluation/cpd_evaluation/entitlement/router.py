"""``/v1/entitlement``: the trust's annual CPD entitlement (hours), which people's records
and dashboards pro-rate."""

from __future__ import annotations

from typing import Any

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.idempotency import api_router
from cpd_evaluation.entitlement import schemas, service

router = api_router("/v1/entitlement", "cpd records")


@router.get(
    "",
    response_model=schemas.EntitlementRead,
    summary="The trust's annual CPD entitlement",
    description="35 hours a year unless the trust set its own figure.",
)
async def get_entitlement(session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.get_entitlement(session, principal=principal)


@router.put(
    "",
    response_model=schemas.EntitlementRead,
    summary="Set the trust's annual CPD entitlement",
    description="Trust admins only. Every record and dashboard pro-rates the new figure.",
    responses={403: {"description": "Only trust admins set the entitlement."}},
)
async def put_entitlement(
    data: schemas.EntitlementIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    return await service.set_entitlement(session, principal=principal, data=data)
