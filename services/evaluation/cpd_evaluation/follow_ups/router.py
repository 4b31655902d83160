"""``/v1/follow-ups``: what is due next from me, and counts for the schools I lead."""

from __future__ import annotations

from typing import Any

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.idempotency import api_router
from cpd_evaluation.follow_ups import schemas, service

router = api_router("/v1/follow-ups", "follow-ups", roles=("staff", "school_leader", "trust_admin"))


@router.get(
    "",
    response_model=schemas.FollowUps,
    summary="What is due next",
    description="Your open follow-ups, soonest first: gap tasks, impact reports, the next "
    "coaching session your pair set, feedback still to give, and the data points and report "
    "of evaluation plans you are responsible for (`evaluation_*`: due and not captured). "
    "Leaders also get counts for each school they lead (trust admins: every school), never "
    "whose they are. The worker publishes `evaluation.follow_up.due` (an evaluation plan's: "
    "`evaluation.evaluation.data_due`) once per item and due date when it falls due.",
)
async def get_follow_ups(session: SessionDep, principal: PrincipalDep) -> Any:
    return await service.follow_ups_for(session, principal=principal)
