"""``/v1/budgets``: each school's CPD budget per academic year, with what is committed and
spent against it, and the trust's schools side by side."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Query

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.idempotency import api_router
from cpd_evaluation.budgets import schemas, service
from cpd_evaluation.records.years import YEAR_PATTERN, AcademicYear

router = api_router("/v1/budgets", "budgets", roles=("school_leader", "trust_admin"))
TEXT = {404: "No such school among those whose budgets you see."}
Year = Annotated[str, Path(pattern=YEAR_PATTERN, examples=["2025-26"])]


@router.get(
    "",
    response_model=schemas.TrustBudgets,
    summary="Budgets side by side",
    description="Every school you lead (trust admins: every school of the trust) for one "
    "academic year (default: the current one), with committed, spent and remaining.",
)
async def trust_budgets(
    session: SessionDep,
    principal: PrincipalDep,
    academic_year: Annotated[str | None, Query(pattern=YEAR_PATTERN)] = None,
) -> Any:
    return await service.trust_view(session, principal, AcademicYear.parse(academic_year))


@router.get(
    "/{school_id}/{academic_year}",
    response_model=schemas.SchoolBudget,
    summary="A school's budget for a year",
    responses=problems(404, described=TEXT),
)
async def school_budget(
    school_id: uuid.UUID, academic_year: Year, session: SessionDep, principal: PrincipalDep
) -> Any:
    return await service.school_view(
        session, principal, school_id, AcademicYear.parse(academic_year)
    )


@router.put(
    "/{school_id}/{academic_year}",
    response_model=schemas.SchoolBudget,
    summary="Set a school's budget for a year",
    description="Leaders of the school and trust admins.",
    responses=problems(404, described=TEXT),
)
async def set_budget(
    school_id: uuid.UUID,
    academic_year: Year,
    data: schemas.BudgetSet,
    session: SessionDep,
    principal: PrincipalDep,
) -> Any:
    return await service.set_budget(
        session, principal, school_id, AcademicYear.parse(academic_year), data.amount
    )
