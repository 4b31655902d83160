"""The SQL of impact: each subject's earlier and later values are paired in PostgreSQL and
reduced there to counts, means, SDs and correlations per measure, phase pair and arm, and to
sums per pupil group; Python only turns those summaries into effect sizes (``impact.stats``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

# Every subject of a measure against every phase pair: the earlier and the later value (either
# may be missing), with the subject's arm and flags as recorded at the earlier phase.
_JOINED = """
    WITH obs AS (
        SELECT measure_id, subject_key, phase, value::float8 AS value, "group" AS arm,
               disadvantaged, send, year_group
        FROM observations
        WHERE measure_id = ANY(:measure_ids)
    ),
    pairs(from_phase, to_phase, ord) AS (
        VALUES ('baseline', 'short_term', 1), ('baseline', 'medium_term', 2),
               ('short_term', 'medium_term', 3)
    ),
    -- A pair is analysed only once both of its phases hold data for the measure.
    present AS (
        SELECT m.measure_id, p.from_phase, p.to_phase, p.ord
        FROM pairs p
        CROSS JOIN (SELECT DISTINCT measure_id FROM obs) m
        WHERE EXISTS (SELECT 1 FROM obs o
                      WHERE o.measure_id = m.measure_id AND o.phase = p.from_phase)
          AND EXISTS (SELECT 1 FROM obs o
                      WHERE o.measure_id = m.measure_id AND o.phase = p.to_phase)
    ),
    subjects AS (SELECT DISTINCT measure_id, subject_key FROM obs),
    joined AS (
        SELECT p.measure_id, p.from_phase, p.to_phase, p.ord,
               coalesce(a.arm, b.arm) AS arm,
               a.value AS before, b.value AS after,
               coalesce(a.disadvantaged, b.disadvantaged) AS disadvantaged,
               coalesce(a.send, b.send) AS send,
               coalesce(a.year_group, b.year_group) AS year_group
        FROM present p
        JOIN subjects s ON s.measure_id = p.measure_id
        LEFT JOIN obs a ON a.measure_id = s.measure_id AND a.subject_key = s.subject_key
                       AND a.phase = p.from_phase
        LEFT JOIN obs b ON b.measure_id = s.measure_id AND b.subject_key = s.subject_key
                       AND b.phase = p.to_phase
        WHERE a.subject_key IS NOT NULL OR b.subject_key IS NOT NULL
    )
"""

_ARMS = (
    _JOINED
    + """
    SELECT measure_id, from_phase, to_phase, arm,
           count(*) FILTER (WHERE before IS NOT NULL AND after IS NOT NULL) AS n,
           avg(before) FILTER (WHERE after IS NOT NULL) AS mean_before,
           stddev_samp(before) FILTER (WHERE after IS NOT NULL) AS sd_before,
           avg(after) FILTER (WHERE before IS NOT NULL) AS mean_after,
           stddev_samp(after) FILTER (WHERE before IS NOT NULL) AS sd_after,
           avg(after - before) AS mean_change,
           stddev_samp(after - before) AS sd_change,
           corr(before, after) AS correlation,
           count(before) AS measured_before,
           count(*) FILTER (WHERE before IS NOT NULL AND after IS NULL) AS missing_after,
           count(*) FILTER (WHERE before IS NULL) AS only_after
    FROM joined
    GROUP BY measure_id, ord, from_phase, to_phase, arm
    ORDER BY measure_id, ord, arm
"""
)

# Each pupil group (a flag set, or one year group) against the rest of the CPD arm's pupils
# with both values: sums per group, the rest as the flag's total minus the group.
_GAPS = (
    _JOINED
    + """
    , flagged AS (
        SELECT measure_id, ord, from_phase, to_phase, 'disadvantaged' AS flag,
               disadvantaged::text AS value, before, after
        FROM joined WHERE arm = 'cpd' AND before IS NOT NULL AND after IS NOT NULL
          AND disadvantaged IS NOT NULL
        UNION ALL
        SELECT measure_id, ord, from_phase, to_phase, 'send', send::text, before, after
        FROM joined WHERE arm = 'cpd' AND before IS NOT NULL AND after IS NOT NULL
          AND send IS NOT NULL
        UNION ALL
        SELECT measure_id, ord, from_phase, to_phase, 'year_group', year_group, before, after
        FROM joined WHERE arm = 'cpd' AND before IS NOT NULL AND after IS NOT NULL
          AND year_group IS NOT NULL
    ),
    by_value AS (
        SELECT measure_id, ord, from_phase, to_phase, flag, value,
               count(*) AS n, sum(before) AS sum_before, sum(after) AS sum_after
        FROM flagged
        GROUP BY measure_id, ord, from_phase, to_phase, flag, value
    ),
    with_rest AS (
        SELECT *,
               sum(n) OVER w - n AS n_rest,
               sum(sum_before) OVER w - sum_before AS rest_sum_before,
               sum(sum_after) OVER w - sum_after AS rest_sum_after
        FROM by_value
        WINDOW w AS (PARTITION BY measure_id, ord, flag)
    )
    SELECT measure_id, from_phase, to_phase, flag, value,
           n, sum_before / n AS mean_before, sum_after / n AS mean_after,
           n_rest::int AS n_rest,
           rest_sum_before / nullif(n_rest, 0) AS rest_mean_before,
           rest_sum_after / nullif(n_rest, 0) AS rest_mean_after
    FROM with_rest
    WHERE flag = 'year_group' OR value = 'true'
    ORDER BY measure_id, ord, flag, value
"""
)


@dataclass(frozen=True)
class ArmRow:
    measure_id: uuid.UUID
    from_phase: str
    to_phase: str
    arm: str
    n: int
    mean_before: float | None
    sd_before: float | None
    mean_after: float | None
    sd_after: float | None
    mean_change: float | None
    sd_change: float | None
    correlation: float | None
    measured_before: int
    missing_after: int
    only_after: int


@dataclass(frozen=True)
class GapRow:
    measure_id: uuid.UUID
    from_phase: str
    to_phase: str
    flag: str
    value: str
    n: int
    mean_before: float
    mean_after: float
    n_rest: int
    rest_mean_before: float | None
    rest_mean_after: float | None


def _ids_param() -> BindParameter[Any]:
    return bindparam("measure_ids", type_=ARRAY(Uuid))


async def arm_rows(session: AsyncSession, measure_ids: Sequence[uuid.UUID]) -> list[ArmRow]:
    """Per measure, phase pair (in the order baseline->short, baseline->medium, short->medium)
    and arm: the paired summaries and the attrition."""
    if not measure_ids:
        return []
    stmt = text(_ARMS).bindparams(_ids_param())
    result = await session.execute(stmt, {"measure_ids": list(measure_ids)})
    return [ArmRow(**row) for row in result.mappings()]


async def gap_rows(session: AsyncSession, measure_ids: Sequence[uuid.UUID]) -> list[GapRow]:
    """Per measure, phase pair and pupil group of the CPD arm: the group's and the rest's
    means before and after."""
    if not measure_ids:
        return []
    stmt = text(_GAPS).bindparams(_ids_param())
    result = await session.execute(stmt, {"measure_ids": list(measure_ids)})
    return [GapRow(**row) for row in result.mappings()]


_PERCEPTION = """
    WITH b AS (SELECT * FROM audit_round_items WHERE audit_id = :baseline_audit_id),
         o AS (SELECT * FROM audit_round_items WHERE audit_id = :outcome_audit_id)
    SELECT item_key,
           b.n AS baseline_n, b.mean AS baseline_mean, b.sd AS baseline_sd,
           b.mean_practice AS baseline_mean_practice, b.sd_practice AS baseline_sd_practice,
           b.withheld AS baseline_withheld, b.item_key IS NOT NULL AS in_baseline,
           o.n AS outcome_n, o.mean AS outcome_mean, o.sd AS outcome_sd,
           o.mean_practice AS outcome_mean_practice, o.sd_practice AS outcome_sd_practice,
           o.withheld AS outcome_withheld, o.item_key IS NOT NULL AS in_outcome
    FROM b FULL JOIN o USING (item_key)
    ORDER BY coalesce(o.position, b.position), item_key
"""


@dataclass(frozen=True)
class PerceptionRow:
    item_key: str
    baseline_n: int | None
    baseline_mean: float | None
    baseline_sd: float | None
    baseline_mean_practice: float | None
    baseline_sd_practice: float | None
    baseline_withheld: str | None
    in_baseline: bool
    outcome_n: int | None
    outcome_mean: float | None
    outcome_sd: float | None
    outcome_mean_practice: float | None
    outcome_sd_practice: float | None
    outcome_withheld: str | None
    in_outcome: bool


async def perception_rows(
    session: AsyncSession, *, baseline_audit_id: uuid.UUID, outcome_audit_id: uuid.UUID
) -> list[PerceptionRow]:
    """Each item of either round, its released aggregates side by side."""
    stmt = text(_PERCEPTION).bindparams(
        bindparam("baseline_audit_id", type_=Uuid), bindparam("outcome_audit_id", type_=Uuid)
    )
    result = await session.execute(
        stmt, {"baseline_audit_id": baseline_audit_id, "outcome_audit_id": outcome_audit_id}
    )
    return [PerceptionRow(**row) for row in result.mappings()]
