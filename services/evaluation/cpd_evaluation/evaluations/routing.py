"""How the routes of evaluation plans and what hangs off them (measures, observations,
perception, case pupils, impact, reports) are declared: their path prefix and the role guard
every one of them has."""

from __future__ import annotations

from fastapi import APIRouter

from cpd_common.auth import Role
from cpd_common.idempotency import api_router
from cpd_evaluation.evaluations.access import PLAN_READERS

PREFIX = "/v1/evaluations"


def plan_router(
    tag: str = "evaluations", *, prefix: str = PREFIX, readers: tuple[Role, ...] = PLAN_READERS
) -> APIRouter:
    """A router of plan routes: under ``prefix``, one tag, behind the guard of who may read
    them (by default whoever may read the plan). Staff and API clients get 403 before any
    lookup."""
    return api_router(prefix, tag, roles=readers)
