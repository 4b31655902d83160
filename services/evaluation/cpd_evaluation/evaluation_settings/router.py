"""``/v1/evaluation-settings``: the trust's costing settings for value for money."""

from __future__ import annotations

from typing import Any

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.idempotency import api_router
from cpd_evaluation.evaluation_settings import schemas, service

router = api_router(
    "/v1/evaluation-settings", "evaluations", roles=("school_leader", "trust_admin")
)


@router.get(
    "",
    response_model=schemas.SettingsRead,
    summary="The trust's evaluation settings",
    description="The hourly cost of staff time that value for money prices participants' "
    "hours with (null until set). Leaders and trust admins.",
    responses=problems(403, described={403: "Leaders and trust admins only."}),
)
async def get_settings(session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.get_settings(session, principal=principal)


@router.put(
    "",
    response_model=schemas.SettingsRead,
    summary="Set the trust's evaluation settings",
    description="Trust admins only. Every value-for-money figure uses the new hourly cost.",
    responses=problems(403, described={403: "Only trust admins set these (leaders read them)."}),
)
async def put_settings(
    data: schemas.SettingsIn, session: SessionDep, principal: PrincipalDep
) -> Any:
    return await service.set_settings(session, principal=principal, data=data)
