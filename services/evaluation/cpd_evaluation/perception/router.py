"""``/v1/evaluations/{plan_id}/audit-rounds`` and ``/perception``: staff perception before and
after the CPD, from two closed rounds of one audit instrument."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import PreconditionFailed, problems
from cpd_common.http import require_if_match, resource_response
from cpd_evaluation.evaluations.access import get_plan
from cpd_evaluation.evaluations.routing import plan_router
from cpd_evaluation.impact import perception as impact_perception
from cpd_evaluation.impact import schemas as impact_schemas
from cpd_evaluation.models.measures import PlanAuditRounds
from cpd_evaluation.perception import schemas, service
from cpd_evaluation.perception.errors import NoAuditRounds

ROUND_PROBLEMS = {
    403: "Governors read the pair; only leaders and trust admins name it.",
    404: "No such plan that you may see (also the answer for another trust's), or the plan "
    "names no audit rounds.",
    422: "A round that is not a closed round you can use, the same round twice, rounds of "
    "different instruments, or an outcome closed before the baseline.",
}

router = plan_router()


@router.get(
    "/{plan_id}/audit-rounds",
    response_model=schemas.AuditRoundsRead,
    summary="The plan's baseline and outcome audit rounds",
    responses=problems(404, described=ROUND_PROBLEMS),
)
async def get_audit_rounds(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    pair = await service.get_rounds(session, plan)
    return resource_response(await service.rounds_read(session, pair))


@router.put(
    "/{plan_id}/audit-rounds",
    response_model=schemas.AuditRoundsRead,
    summary="Name the plan's baseline and outcome audit rounds",
    description="A closed round as baseline and a later closed round of the same instrument "
    "as outcome: staff perception before and after the CPD, compared item by item at "
    "`/perception` (and with effect sizes at `/impact`). Replaces any pair named before; "
    "`If-Match` is optional and, when sent, must match the current pair.",
    responses=problems(403, 404, 412, 422, described=ROUND_PROBLEMS),
)
async def put_audit_rounds(
    plan_id: uuid.UUID,
    data: schemas.AuditRoundsSet,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    if request.headers.get("if-match"):
        current = await session.get(PlanAuditRounds, plan.id)
        if current is None:
            raise PreconditionFailed("The plan names no audit rounds yet; send no If-Match.")
        require_if_match(request, await service.rounds_read(session, current))
    pair = await service.set_rounds(session, plan, principal=principal, data=data)
    return resource_response(await service.rounds_read(session, pair))


@router.delete(
    "/{plan_id}/audit-rounds",
    status_code=204,
    summary="Stop using audit rounds as evidence for the plan",
    description="With If-Match.",
    responses=problems(403, 404, 412, 428, described=ROUND_PROBLEMS),
)
async def delete_audit_rounds(
    plan_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal, write=True)
    pair = await service.get_rounds(session, plan)
    require_if_match(request, await service.rounds_read(session, pair))
    await service.clear_rounds(session, pair)
    return Response(status_code=204)


@router.get(
    "/{plan_id}/perception",
    response_model=impact_schemas.PerceptionImpact,
    summary="Staff perception: each audit item's change between the plan's rounds",
    description="From the rounds' released aggregates: n, mean and SD on each side, the mean "
    "change and, where the numbers allow, Hedges' g. An item the audit withheld in either "
    "round (too few answered) stays withheld: `withheld` says why and no change is given.",
    responses=problems(404, described=ROUND_PROBLEMS),
)
async def get_perception(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    perception = await impact_perception.perception_impact(session, plan.id)
    if perception is None:
        raise NoAuditRounds(
            "The plan names no baseline and outcome audit rounds; "
            "PUT them to /v1/evaluations/{id}/audit-rounds."
        )
    return resource_response(perception)
