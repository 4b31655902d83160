"""Measures of an evaluation plan: creating, listing, changing and deleting them, who may see
and change each (the plan's rules, :mod:`cpd_evaluation.evaluations.access`), and the read
model with the number of subjects measured at each phase."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, scalar_or_raise, utcnow, where_given
from cpd_common.schemas import from_row
from cpd_evaluation.evaluations.access import can_write, visible_to
from cpd_evaluation.evaluations.errors import CannotChangePlan
from cpd_evaluation.measures.errors import (
    InvalidMeasure,
    MeasureHasObservations,
    MeasureNameTaken,
    MeasureNotFound,
)
from cpd_evaluation.measures.schemas import (
    MeasureCreate,
    MeasureRead,
    MeasureUpdate,
    PhaseCounts,
    ScaleRead,
    check_kind,
)
from cpd_evaluation.models.measures import Measure, Observation
from cpd_evaluation.models.plans import EvaluationPlan


def _name_taken(name: str) -> MeasureNameTaken:
    return MeasureNameTaken(
        f"The plan already has a measure called {name!r}; measure names are unique in a plan.",
        errors=[{"loc": "body.name", "msg": "already used in this plan"}],
    )


async def get_measure(
    session: AsyncSession,
    measure_id: uuid.UUID,
    *,
    principal: Principal,
    write: bool = False,
    plan_id: uuid.UUID | None = None,
) -> Measure:
    """The measure, if the caller may see its plan (locked for the transaction when
    ``write``). 404 when missing, another trust's or not visible (or, with ``plan_id``, of
    another plan); 403 when the caller may read but not change it."""
    stmt = (
        select(Measure)
        .join(EvaluationPlan, EvaluationPlan.id == Measure.plan_id)
        .where(
            Measure.id == measure_id,
            Measure.trust_id == principal.trust_id,
            EvaluationPlan.trust_id == principal.trust_id,
            visible_to(principal),
        )
    )
    stmt = where_given(stmt, (Measure.plan_id, plan_id))
    if write:
        stmt = stmt.with_for_update(of=Measure)
    measure = await scalar_or_raise(session, stmt, MeasureNotFound)
    if write and not can_write(principal):
        raise CannotChangePlan("Governors read measures; leaders and trust admins change them.")
    return measure


async def create_measure(
    session: AsyncSession, plan: EvaluationPlan, *, principal: Principal, data: MeasureCreate
) -> Measure:
    """``plan`` was fetched for writing by the caller."""
    measure = Measure(
        trust_id=plan.trust_id,
        plan_id=plan.id,
        name=data.name,
        kind=data.kind,
        subjects=data.subjects,
        scale_min=data.scale.min,
        scale_max=data.scale.max,
        scale_description=data.scale.description,
        higher_is_better=data.higher_is_better,
        created_by=principal.person_id,
    )
    async with one_of_a_kind(session, _name_taken(data.name)):
        session.add(measure)
        await session.flush()
    return measure


def list_query(plan: EvaluationPlan) -> Select[Any]:
    return select(Measure).where(Measure.plan_id == plan.id, Measure.trust_id == plan.trust_id)


async def _count_observations(session: AsyncSession, measure: Measure) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Observation)
            .where(Observation.measure_id == measure.id)
        )
        or 0
    )


async def update_measure(
    session: AsyncSession, measure: Measure, *, data: MeasureUpdate
) -> Measure:
    """``measure`` was fetched for writing (locked) by the caller. What the observations were
    taken as (kind, subjects, range) cannot change under them."""
    kind = data.kind or measure.kind
    subjects = data.subjects or measure.subjects
    try:
        check_kind(kind, subjects)
    except ValueError as exc:
        raise InvalidMeasure(str(exc), errors=[{"loc": "body.kind", "msg": str(exc)}]) from None
    if (kind, subjects) != (measure.kind, measure.subjects) and await _count_observations(
        session, measure
    ):
        raise MeasureHasObservations(
            "The measure holds observations: its kind and subjects are fixed. "
            "Create another measure instead.",
            errors=[{"loc": "body.kind", "msg": "measure holds observations"}],
        )
    if data.scale is not None:
        bounds = []
        if data.scale.min is not None:
            bounds.append(Observation.value < data.scale.min)
        if data.scale.max is not None:
            bounds.append(Observation.value > data.scale.max)
        outside = bounds and await session.scalar(
            select(func.count())
            .select_from(Observation)
            .where(Observation.measure_id == measure.id, or_(*bounds))
        )
        if outside:
            raise MeasureHasObservations(
                f"{outside} recorded value(s) lie outside the new scale.",
                errors=[{"loc": "body.scale", "msg": "excludes recorded values"}],
            )
        measure.scale_min = data.scale.min
        measure.scale_max = data.scale.max
        measure.scale_description = data.scale.description
    measure.kind, measure.subjects = kind, subjects
    if data.higher_is_better is not None:
        measure.higher_is_better = data.higher_is_better
    if data.name is not None and data.name != measure.name:
        measure.name = data.name
        async with one_of_a_kind(session, _name_taken(data.name)):
            await session.flush()
    measure.updated_at = utcnow()
    await session.flush()
    return measure


async def delete_measure(session: AsyncSession, measure: Measure) -> None:
    """Deletes the measure with its observations."""
    await tombstones.delete(session, measure, parent_id=measure.plan_id)


# ---- read model ---------------------------------------------------------------------------


async def measure_reads(session: AsyncSession, measures: Sequence[Measure]) -> list[MeasureRead]:
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    ids = [m.id for m in measures]
    if ids:
        for measure_id, phase, n in await session.execute(
            select(Observation.measure_id, Observation.phase, func.count())
            .where(Observation.measure_id.in_(ids))
            .group_by(Observation.measure_id, Observation.phase)
        ):
            counts[measure_id][phase] = n
    return [
        from_row(
            MeasureRead,
            m,
            scale=ScaleRead(
                min=None if m.scale_min is None else float(m.scale_min),
                max=None if m.scale_max is None else float(m.scale_max),
                description=m.scale_description,
            ),
            observations=PhaseCounts(**counts[m.id]),
        )
        for m in measures
    ]


async def measure_read(session: AsyncSession, measure: Measure) -> MeasureRead:
    return (await measure_reads(session, [measure]))[0]
