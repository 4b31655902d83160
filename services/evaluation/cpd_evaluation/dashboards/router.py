"""``/v1/dashboards``: the trust's and each school's CPD for an academic year."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.idempotency import api_router
from cpd_evaluation.dashboards import schemas, service
from cpd_evaluation.records.years import YEAR_PATTERN, AcademicYear

router = api_router(
    "/v1/dashboards", "dashboards", roles=("school_leader", "governor", "trust_admin")
)
YearQuery = Annotated[
    str | None,
    Query(
        pattern=YEAR_PATTERN,
        description="Academic year (September to August) such as 2025-26; the current one "
        "when left out.",
    ),
]
FIGURES = (
    "Staff covered, hours per FTE (quartiles), share of staff meeting their pro-rated "
    "entitlement, subject-specific share of hours against the 50% aim, sustained and one-off "
    "shares, spend per FTE, activities by kind, lesson studies running and completed, coaching "
    "cadence. A figure from fewer than 5 people is withheld, with the reason."
)


@router.get(
    "/trust",
    response_model=schemas.TrustDashboard,
    summary="The trust's dashboard",
    description="Trust admins: the trust total and every school side by side. " + FIGURES,
    responses={403: {"description": "Only trust admins read the trust dashboard."}},
)
async def trust_dashboard(
    session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Any:
    return await service.trust_dashboard(
        session, principal=principal, year=AcademicYear.parse(year)
    )


@router.get(
    "/schools/{school_id}",
    response_model=schemas.SchoolDashboard,
    summary="A school's dashboard",
    description="Leaders and governors of the school, trust admins. " + FIGURES,
    responses={404: {"description": "No such school that you may see."}},
)
async def school_dashboard(
    school_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Any:
    return await service.school_dashboard(
        session, school_id, principal=principal, year=AcademicYear.parse(year)
    )
