"""``/v1/evaluations/{id}/impact``: what changed, how much, and how sure we can be."""

from __future__ import annotations

import uuid

from fastapi import Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import resource_response
from cpd_evaluation.evaluations.access import get_plan
from cpd_evaluation.evaluations.routing import plan_router
from cpd_evaluation.impact import schemas, service

router = plan_router()


@router.get(
    "/{plan_id}/impact",
    response_model=schemas.ImpactRead,
    summary="The impact of an evaluated programme",
    description="Per measure and phase pair with data (baseline to short-term, baseline to "
    "medium-term, short-term to medium-term): n, means and SDs of the subjects measured at "
    "both points, the mean change, and a standardised effect size (Hedges' g) with its 95% "
    "confidence interval, naming the design: `paired_change` (the same subjects measured "
    "twice), `groups_change` (the CPD group against a comparison group) or, for staff "
    "perception from two audit rounds, `audit_aggregates`. Below 10 subjects in the smallest "
    "group there is no effect size, only the raw change; below 30 a `small_sample` warning. "
    "Subjects with an earlier value and no later one are counted as attrition. For pupil "
    "measures, each group (disadvantaged, SEND, each year group) against the rest, and "
    "whether the gap narrowed; a group or rest under 5 pupils is withheld with its reason. "
    "`reading` says each result in plain words.",
    responses=problems(
        404, described={404: "No such plan that you may see: also the answer for another trust's."}
    ),
)
async def get_impact(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    return resource_response(await service.plan_impact(session, plan))
