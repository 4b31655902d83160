"""``/v1/evaluations/{id}/evidence`` and ``/value``: evidence by level and value for money."""

from __future__ import annotations

import uuid
from typing import Any

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_evaluation.evaluations.access import EVIDENCE_READERS, get_plan
from cpd_evaluation.evaluations.routing import plan_router
from cpd_evaluation.evidence import schemas, service, value

DESCRIBED = {
    403: "Leaders of the plan's schools and trust admins only (governors read the report).",
    404: "No such plan that you may see: also the answer for another trust's.",
}

router = plan_router(readers=EVIDENCE_READERS)


@router.get(
    "/{plan_id}/evidence",
    response_model=schemas.Evidence,
    summary="Evidence at each evaluation level",
    description="Aggregates only. Level 1: each activity's feedback as released (counts while "
    "its window is open or too few responded) and means combined over released activities; "
    "level 2: reflections shared as evidence (counts); level 3: organisational support "
    "recorded by leaders; level 4: gap tasks, impact reports, coaching milestones, observation "
    "measures; level 5: the plan's measures.",
    responses=problems(403, 404, described=DESCRIBED),
)
async def get_evidence(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Any:
    plan = await get_plan(session, plan_id, principal=principal)
    return await service.evidence(session, plan)


@router.get(
    "/{plan_id}/value",
    response_model=schemas.ValueForMoney,
    summary="Value for money",
    description="Total cost (fees, materials, supply cover and participants' time at the "
    "trust's hourly staff cost), per participant, per participant hour, per pupil reached, "
    "and per pupil for each 0.1 SD of improvement where the impact analysis has an effect "
    "size. In pounds; cancelled activities count nothing.",
    responses=problems(403, 404, described=DESCRIBED),
)
async def get_value(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Any:
    plan = await get_plan(session, plan_id, principal=principal)
    return await value.value_for_money(session, plan)
