"""Process health of lesson studies: cycles completed v planned, predictions made before
teaching, observation coverage, discussions started from pupil evidence, days between cycles.
Visible to the group and the school leaders; trust admins see it across schools."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, cast, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal
from cpd_lessonstudy.models import LessonStudy
from cpd_lessonstudy.process_health import queries
from cpd_lessonstudy.process_health.errors import LeadersOnly
from cpd_lessonstudy.process_health.schemas import (
    LessonHealth,
    SchoolHealth,
    StudyHealth,
    TrustHealth,
    TrustTotals,
)
from cpd_lessonstudy.studies import service as studies_service
from cpd_lessonstudy.studies.access import get_access


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _figures(row: RowMapping | Mapping[str, Any]) -> dict[str, Any]:
    cells = int(row["prediction_cells"])
    mean = row["mean_days_between_cycles"]
    return {
        "cycles_planned": int(row["cycles_planned"]),
        "cycles_completed": int(row["cycles_completed"]),
        "prediction_cells": cells,
        "predictions_before_teaching": int(row["predictions_before_teaching"]),
        "prediction_rate": _ratio(int(row["predictions_before_teaching"]), cells),
        "cells_observed": int(row["cells_observed"]),
        "observation_coverage": _ratio(int(row["cells_observed"]), cells),
        "discussions_held": int(row["discussions_held"]),
        "discussions_from_pupil_evidence": int(row["discussions_from_pupil_evidence"]),
        "mean_days_between_cycles": float(mean) if mean is not None else None,
    }


async def studies_health(session: AsyncSession, study_ids: list[uuid.UUID]) -> list[StudyHealth]:
    params = {"study_ids": study_ids}
    lessons: dict[uuid.UUID, list[LessonHealth]] = defaultdict(list)
    for row in (await session.execute(text(queries.LESSON_ROWS), params)).mappings():
        lessons[row["study_id"]].append(
            LessonHealth(
                cycle=row["cycle"],
                status=row["status"],
                taught_on=row["taught_on"],
                cells=row["cells"],
                predicted_before_teaching=row["predicted_before_teaching"],
                cells_observed=row["cells_observed"],
                discussion_held=row["discussion_held"],
                discussion_from_pupil_evidence=row["discussion_from_pupil_evidence"],
                days_since_previous=row["days_since_previous"],
            )
        )
    return [
        StudyHealth(
            study_id=row["study_id"],
            title=row["title"],
            status=row["status"],
            school_ids=list(row["school_ids"]),
            lessons_taught=int(row["lessons_taught"]),
            days_between_cycles=[int(d) for d in row["days_between_cycles"]],
            lessons=lessons[row["study_id"]],
            **_figures(row),
        )
        for row in (await session.execute(text(queries.STUDY_ROWS), params)).mappings()
    ]


async def study_health(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> StudyHealth:
    await get_access(session, study_id, principal=principal)
    return (await studies_health(session, [study_id]))[0]


async def trust_health(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    status: str | None = None,
) -> TrustHealth:
    """Trust admins: every study of the trust; school leaders: the studies of their schools."""
    if not principal.has_any("trust_admin", "school_leader"):
        raise LeadersOnly(
            "The cross-study view is for school leaders and trust admins; members see their "
            "own study's process health."
        )
    stmt = studies_service.list_query(principal=principal, school_id=school_id, status=status)
    if not principal.is_trust_admin:
        # A leader's view is about their schools, not every study they happen to be in.
        stmt = stmt.where(
            LessonStudy.school_ids.overlap(cast(sorted(principal.school_ids), ARRAY(Uuid)))
        )
    study_ids = list((await session.scalars(stmt.with_only_columns(LessonStudy.id))).all())
    params = {"study_ids": study_ids}
    totals = (await session.execute(text(queries.TOTALS), params)).mappings().one()
    schools = [
        SchoolHealth(
            school_id=row["school_id"],
            school_name=row["school_name"],
            studies=int(row["studies"]),
            **_figures(row),
        )
        for row in (await session.execute(text(queries.SCHOOL_ROWS), params)).mappings()
    ]
    return TrustHealth(
        trust_id=principal.trust_id,
        totals=TrustTotals(studies=int(totals["studies"]), **_figures(totals)),
        schools=schools,
        studies=await studies_health(session, study_ids),
    )
