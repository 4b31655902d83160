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
# may be missing), with the subject's arm and flags as recorded at their first measurement.
# One pass over the observations turns each subject into one row (a value per phase); a pair
# is analysed only once both of its phases hold data for the measure.
_JOINED = """
    WITH per_subject AS (
        SELECT measure_id, subject_key,
               max(value) FILTER (WHERE phase = 'baseline')::float8 AS v_baseline,
               max(value) FILTER (WHERE phase = 'short_term')::float8 AS v_short_term,
               max(value) FILTER (WHERE phase = 'medium_term')::float8 AS v_medium_term,
               coalesce(min("group") FILTER (WHERE phase = 'baseline'),
                        min("group") FILTER (WHERE phase = 'short_term'),
                        min("group")) AS arm,
               coalesce(bool_or(disadvantaged) FILTER (WHERE phase = 'baseline'),
                        bool_or(disadvantaged) FILTER (WHERE phase = 'short_term'),
                        bool_or(disadvantaged)) AS disadvantaged,
               coalesce(bool_or(send) FILTER (WHERE phase = 'baseline'),
                        bool_or(send) FILTER (WHERE phase = 'short_term'),
                        bool_or(send)) AS send,
               coalesce(min(year_group) FILTER (WHERE phase = 'baseline'),
                        min(year_group) FILTER (WHERE phase = 'short_term'),
                        min(year_group)) AS year_group
        FROM observations
        WHERE measure_id = ANY(:measure_ids)
        GROUP BY measure_id, subject_key
    ),
    held AS (
        SELECT measure_id,
               bool_or(v_baseline IS NOT NULL) AS baseline,
               bool_or(v_short_term IS NOT NULL) AS short_term,
               bool_or(v_medium_term IS NOT NULL) AS medium_term
        FROM per_subject GROUP BY measure_id
    ),
    present AS (
        SELECT measure_id, 'baseline' AS from_phase, 'short_term' AS to_phase, 1 AS ord
        FROM held WHERE baseline AND short_term
        UNION ALL
        SELECT measure_id, 'baseline', 'medium_term', 2 FROM held WHERE baseline AND medium_term
        UNION ALL
        SELECT measure_id, 'short_term', 'medium_term', 3
        FROM held WHERE short_term AND medium_term
    ),
    joined AS (
        SELECT * FROM (
            SELECT p.measure_id, p.from_phase, p.to_phase, p.ord, s.arm,
                   CASE p.from_phase WHEN 'baseline' THEN s.v_baseline
                                     ELSE s.v_short_term END AS before,
                   CASE p.to_phase WHEN 'short_term' THEN s.v_short_term
                                   ELSE s.v_medium_term END AS after,
                   s.disadvantaged, s.send, s.year_group
            FROM present p JOIN per_subject s ON s.measure_id = p.measure_id
        ) j
        WHERE before IS NOT NULL OR after IS NOT NULL
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
# with both values: sums per group in one pass (grouping sets), the rest as the flag's total
# minus the group (pupils without a year group are in neither).
_GAPS = (
    _JOINED
    + """
    , by_value AS (
        SELECT measure_id, ord, from_phase, to_phase,
               CASE WHEN GROUPING(disadvantaged) = 0 THEN 'disadvantaged'
                    WHEN GROUPING(send) = 0 THEN 'send' ELSE 'year_group' END AS flag,
               CASE WHEN GROUPING(disadvantaged) = 0 THEN disadvantaged::text
                    WHEN GROUPING(send) = 0 THEN send::text ELSE year_group END AS value,
               count(*) AS n, sum(before) AS sum_before, sum(after) AS sum_after
        FROM joined
        WHERE arm = 'cpd' AND before IS NOT NULL AND after IS NOT NULL
        GROUP BY measure_id, ord, from_phase, to_phase,
                 GROUPING SETS ((disadvantaged), (send), (year_group))
    ),
    with_rest AS (
        SELECT *,
               sum(n) OVER w - n AS n_rest,
               sum(sum_before) OVER w - sum_before AS rest_sum_before,
               sum(sum_after) OVER w - sum_after AS rest_sum_after
        FROM by_value
        WHERE value IS NOT NULL
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


def _params() -> list[BindParameter[Any]]:
    return [bindparam("measure_ids", type_=ARRAY(Uuid))]


async def arm_rows(session: AsyncSession, measure_ids: Sequence[uuid.UUID]) -> list[ArmRow]:
    """Per measure, phase pair (in the order baseline->short, baseline->medium, short->medium)
    and arm: the paired summaries and the attrition."""
    if not measure_ids:
        return []
    stmt = text(_ARMS).bindparams(*_params())
    result = await session.execute(stmt, {"measure_ids": list(measure_ids)})
    return [ArmRow(**row) for row in result.mappings()]


async def gap_rows(session: AsyncSession, measure_ids: Sequence[uuid.UUID]) -> list[GapRow]:
    """Per measure, phase pair and pupil group of the CPD arm: the group's and the rest's
    means before and after."""
    if not measure_ids:
        return []
    stmt = text(_GAPS).bindparams(*_params())
    result = await session.execute(stmt, {"measure_ids": list(measure_ids)})
    return [GapRow(**row) for row in result.mappings()]


_HELD = """
    SELECT measure_id, phase, count(*) AS n
    FROM observations
    WHERE measure_id = ANY(:measure_ids)
    GROUP BY measure_id, phase
"""


async def subjects_per_phase(
    session: AsyncSession, measure_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """How many subjects each measure holds a value for at each phase."""
    if not measure_ids:
        return {}
    stmt = text(_HELD).bindparams(*_params())
    out: dict[uuid.UUID, dict[str, int]] = {}
    for row in (await session.execute(stmt, {"measure_ids": list(measure_ids)})).mappings():
        out.setdefault(row["measure_id"], {})[row["phase"]] = int(row["n"])
    return out


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
