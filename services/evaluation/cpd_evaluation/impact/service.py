"""The impact of an evaluation plan: for each of its measures and each phase pair with data,
the figures of the subjects measured at both points, the design (same subjects twice, or the
CPD group against a comparison group), the effect size with its 95% interval and a plain
reading, who dropped out, and whether the gaps between pupil groups narrowed; and the change
in staff perception between the plan's baseline and outcome audit rounds.

The honesty rules live here: below ``stats.MIN_SUBJECTS`` no effect size, only the raw
change; below ``stats.SMALL_SAMPLE`` a warning; attrition always counted and named; a pupil
group under ``stats.MIN_GROUP`` (or a rest that small) withheld with its reason, and a year
group that would give a withheld one back by subtraction withheld too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.impact import perception, queries, schemas, stats
from cpd_evaluation.models.measures import Measure
from cpd_evaluation.models.plans import EvaluationPlan

PHASE_WORDS = {"baseline": "baseline", "short_term": "short-term", "medium_term": "medium-term"}
ARM_WORDS = {"cpd": "CPD group", "comparison": "comparison group"}

PairKey = tuple[uuid.UUID, str, str]


async def plan_impact(session: AsyncSession, plan: EvaluationPlan) -> schemas.ImpactRead:
    """The whole impact section of a plan (the caller has checked the plan is visible)."""
    measures = (
        await session.scalars(
            select(Measure).where(Measure.plan_id == plan.id).order_by(Measure.name, Measure.id)
        )
    ).all()
    ids = [m.id for m in measures]
    arms: dict[PairKey, list[queries.ArmRow]] = defaultdict(list)
    for arm_row in await queries.arm_rows(session, ids):
        arms[(arm_row.measure_id, arm_row.from_phase, arm_row.to_phase)].append(arm_row)
    held = await queries.subjects_per_phase(session, ids)
    gaps: dict[PairKey, list[queries.GapRow]] = defaultdict(list)
    for gap_row in await queries.gap_rows(session, ids):
        gaps[(gap_row.measure_id, gap_row.from_phase, gap_row.to_phase)].append(gap_row)
    return schemas.ImpactRead(
        evaluation_id=plan.id,
        measures=[
            schemas.MeasureImpact(
                measure_id=m.id,
                name=m.name,
                kind=m.kind,
                subjects=m.subjects,
                higher_is_better=m.higher_is_better,
                subjects_per_phase=schemas.PhaseCounts(**held.get(m.id, {})),
                comparisons=[
                    _comparison(m, key, rows, gaps.get(key, []))
                    for key, rows in arms.items()
                    if key[0] == m.id
                ],
            )
            for m in measures
        ],
        perception=await perception.perception_impact(session, plan.id),
    )


@dataclass(frozen=True)
class ProgrammeEffect:
    """A measure's headline effect size, oriented so that positive is an improvement: from
    baseline to medium term when that pair has one, else to short term. For figures across
    programmes (the QA feed's median effect size, value for money per 0.1 SD)."""

    plan_id: uuid.UUID
    measure_id: uuid.UUID
    subjects: str
    from_phase: str
    to_phase: str
    design: stats.Design
    effect_size: float
    n: int


HEADLINE_PAIRS = (("baseline", "medium_term"), ("baseline", "short_term"))


async def programme_effects(
    session: AsyncSession, plan_ids: Sequence[uuid.UUID]
) -> list[ProgrammeEffect]:
    """Each measure of these plans that has an effect size (at least ``MIN_SUBJECTS`` in
    every group measured at both points, and some spread), one SQL pass for all of them.
    The caller scopes ``plan_ids`` to what it may see."""
    if not plan_ids:
        return []
    measures = (
        await session.scalars(
            select(Measure).where(Measure.plan_id.in_(plan_ids)).order_by(Measure.id)
        )
    ).all()
    arms: dict[PairKey, list[queries.ArmRow]] = defaultdict(list)
    for row in await queries.arm_rows(session, [m.id for m in measures]):
        arms[(row.measure_id, row.from_phase, row.to_phase)].append(row)
    out: list[ProgrammeEffect] = []
    for measure in measures:
        for from_phase, to_phase in HEADLINE_PAIRS:
            key = (measure.id, from_phase, to_phase)
            pair = analyse_pair(key, arms[key]) if key in arms else None
            if pair is None or pair.effect is None:
                continue
            out.append(
                ProgrammeEffect(
                    plan_id=measure.plan_id,
                    measure_id=measure.id,
                    subjects=measure.subjects,
                    from_phase=from_phase,
                    to_phase=to_phase,
                    design=pair.design,
                    effect_size=pair.effect.g if measure.higher_is_better else -pair.effect.g,
                    n=pair.smallest,
                )
            )
            break
    return out


# ---- one measure, one phase pair --------------------------------------------------------------


def _arm(row: queries.ArmRow) -> schemas.ArmChange:
    return schemas.ArmChange(
        arm=row.arm,
        n=row.n,
        before=schemas.Spread(mean=row.mean_before, sd=row.sd_before),
        after=schemas.Spread(mean=row.mean_after, sd=row.sd_after),
        mean_change=row.mean_change,
        sd_change=row.sd_change,
        correlation=row.correlation,
    )


def _attrition(row: queries.ArmRow) -> schemas.Attrition:
    return schemas.Attrition(
        arm=row.arm,
        measured_before=row.measured_before,
        missing_after=row.missing_after,
        rate=row.missing_after / row.measured_before if row.measured_before else None,
        only_after=row.only_after,
    )


def _attrition_notice(row: queries.ArmRow, *, subjects: str, to_phase: str) -> schemas.Notice:
    return schemas.Notice(
        code="attrition",
        message=f"{row.missing_after} of the {row.measured_before} {subjects} of the "
        f"{ARM_WORDS[row.arm]} measured earlier have no {PHASE_WORDS[to_phase]} value "
        f"({row.missing_after / row.measured_before:.0%}); the change is over the {row.n} "
        "measured at both points, who may differ from those who left.",
    )


@dataclass(frozen=True)
class PairAnalysis:
    """One measure's phase pair: the design, the arms, the sample check on the smallest
    group measured at both points and, when the check and the spread allow, the effect."""

    design: stats.Design
    cpd: queries.ArmRow
    comparison: queries.ArmRow | None
    smallest: int
    check: stats.SampleCheck
    effect: stats.EffectSize | None

    @property
    def measured(self) -> list[queries.ArmRow]:
        if self.design == "paired_change" or self.comparison is None:
            return [self.cpd]
        return [self.cpd, self.comparison]


def analyse_pair(key: PairKey, rows: list[queries.ArmRow]) -> PairAnalysis:
    by_arm = {row.arm: row for row in rows}
    cpd = by_arm.get("cpd") or _empty_arm(key, "cpd")
    comparison = by_arm.get("comparison")
    design: stats.Design = (
        "groups_change" if comparison is not None and comparison.n > 0 else "paired_change"
    )
    sizes = [cpd.n] if design == "paired_change" or comparison is None else [cpd.n, comparison.n]
    check = stats.check_sample(*sizes)
    effect = None if check == "too_few_subjects" else _effect(design, cpd, comparison)
    return PairAnalysis(design, cpd, comparison, min(sizes), check, effect)


def _comparison(
    measure: Measure, key: PairKey, rows: list[queries.ArmRow], gap_rows: list[queries.GapRow]
) -> schemas.PhaseComparison:
    _, from_phase, to_phase = key
    subjects = "pupils" if measure.subjects == "pupils" else "staff"
    pair = analyse_pair(key, rows)
    design, cpd, comparison = pair.design, pair.cpd, pair.comparison
    effect, check, smallest = pair.effect, pair.check, pair.smallest
    warnings = [
        _attrition_notice(row, subjects=subjects, to_phase=to_phase)
        for row in rows
        if row.missing_after
    ]
    if check == "too_few_subjects":
        warnings.append(_too_few(pair.measured, subjects=subjects))
    elif effect is None:
        warnings.append(
            schemas.Notice(
                code="no_variation",
                message="The values do not vary, so there is nothing to standardise the "
                "change by: no effect size.",
            )
        )
    elif check == "small_sample":
        warnings.append(
            schemas.Notice(
                code="small_sample",
                message=f"Only {smallest} {subjects} in the smallest group measured at both "
                f"points (under {stats.SMALL_SAMPLE}): the effect size is unreliable.",
            )
        )
    if effect is not None:
        raw = _raw_change(design, cpd, comparison)
        reading = stats.read_effect(
            effect,
            higher_is_better=measure.higher_is_better,
            n=smallest,
            subjects=subjects,
            change=None
            if raw is None
            else stats.describe_change(raw, compared=design == "groups_change"),
        )
    else:
        reading = stats.read_raw_change(
            _raw_change(design, cpd, comparison),
            higher_is_better=measure.higher_is_better,
            n=smallest,
            subjects=subjects,
            what="mean change"
            if design == "paired_change"
            else "difference between the groups' mean changes",
            too_few=check == "too_few_subjects",
        )
    return schemas.PhaseComparison(
        from_phase=from_phase,
        to_phase=to_phase,
        design=design,
        design_label=stats.DESIGN_LABELS[design],
        arms=[_arm(row) for row in (cpd, comparison) if row is not None],
        attrition=[_attrition(row) for row in (cpd, comparison) if row is not None],
        effect_size=schemas.effect_read(effect) if effect is not None else None,
        reading=reading,
        warnings=warnings,
        gaps=_gaps(gap_rows, higher_is_better=measure.higher_is_better, arm_n=cpd.n)
        if measure.subjects == "pupils"
        else [],
    )


def _empty_arm(key: PairKey, arm: str) -> queries.ArmRow:
    """The CPD arm when only a comparison group was measured."""
    measure_id, from_phase, to_phase = key
    return queries.ArmRow(
        measure_id=measure_id,
        from_phase=from_phase,
        to_phase=to_phase,
        arm=arm,
        n=0,
        mean_before=None,
        sd_before=None,
        mean_after=None,
        sd_after=None,
        mean_change=None,
        sd_change=None,
        correlation=None,
        measured_before=0,
        missing_after=0,
        only_after=0,
    )


def _too_few(measured: list[queries.ArmRow], *, subjects: str) -> schemas.Notice:
    parts = [f"{row.n} in the {ARM_WORDS[row.arm]}" for row in measured]
    return schemas.Notice(
        code="too_few_subjects",
        message=f"{subjects.capitalize()} measured at both points: {', '.join(parts)}. Under "
        f"{stats.MIN_SUBJECTS} an effect size would mislead, so only the raw change is given.",
    )


def _effect(
    design: stats.Design, cpd: queries.ArmRow, comparison: queries.ArmRow | None
) -> stats.EffectSize | None:
    if design == "groups_change":
        assert comparison is not None
        if cpd.mean_change is None or comparison.mean_change is None:
            return None
        return stats.between_groups(
            stats.Summary(cpd.n, cpd.mean_change, cpd.sd_change or 0.0),
            stats.Summary(comparison.n, comparison.mean_change, comparison.sd_change or 0.0),
        )
    if None in (cpd.mean_before, cpd.mean_after, cpd.sd_before, cpd.sd_after):
        return None
    return stats.paired_change(
        stats.Paired(
            before=stats.Summary(cpd.n, cpd.mean_before or 0.0, cpd.sd_before or 0.0),
            after=stats.Summary(cpd.n, cpd.mean_after or 0.0, cpd.sd_after or 0.0),
            # No correlation when one phase has no spread: treat the phases as unrelated.
            r=cpd.correlation if cpd.correlation is not None else 0.0,
        )
    )


def _raw_change(
    design: stats.Design, cpd: queries.ArmRow, comparison: queries.ArmRow | None
) -> float | None:
    """The mean change, or for a comparison design how much more the CPD group changed."""
    if design == "groups_change" and comparison is not None:
        if cpd.mean_change is None or comparison.mean_change is None:
            return None
        return cpd.mean_change - comparison.mean_change
    return cpd.mean_change


def _gap(
    row: queries.GapRow, higher_is_better: bool, withheld: schemas.GapWithheld | None
) -> schemas.GroupGap:
    flag, value = row.flag, row.value
    if withheld is not None or row.rest_mean_before is None or row.rest_mean_after is None:
        return schemas.GroupGap(flag=flag, value=value, withheld=withheld or "rest_under_5")
    gap = stats.gap(
        group_before=row.mean_before,
        group_after=row.mean_after,
        rest_before=row.rest_mean_before,
        rest_after=row.rest_mean_after,
        higher_is_better=higher_is_better,
    )
    return schemas.GroupGap(
        flag=flag,
        value=value,
        group=schemas.GapSide(
            n=row.n,
            mean_before=row.mean_before,
            mean_after=row.mean_after,
            mean_change=row.mean_after - row.mean_before,
        ),
        rest=schemas.GapSide(
            n=row.n_rest,
            mean_before=row.rest_mean_before,
            mean_after=row.rest_mean_after,
            mean_change=row.rest_mean_after - row.rest_mean_before,
        ),
        gap_before=gap.before,
        gap_after=gap.after,
        narrowed=gap.narrowed,
    )


def _gaps(
    rows: list[queries.GapRow], *, higher_is_better: bool, arm_n: int
) -> list[schemas.GroupGap]:
    withheld: dict[tuple[str, str], schemas.GapWithheld] = {}
    for row in rows:
        if row.n < stats.MIN_GROUP:
            withheld[(row.flag, row.value)] = "group_under_5"
        elif row.n_rest < stats.MIN_GROUP:
            withheld[(row.flag, row.value)] = "rest_under_5"
    years = [row for row in rows if row.flag == "year_group"]
    for value in _complements(years, {v for f, v in withheld if f == "year_group"}, arm_n):
        withheld[("year_group", value)] = "complementary"
    return [_gap(row, higher_is_better, withheld.get((row.flag, row.value))) for row in rows]


def _complements(years: list[queries.GapRow], withheld: set[str], arm_n: int) -> list[str]:
    """Year groups split the CPD group's pupils, so with one year group withheld the others'
    figures and the whole group's would give it back by subtraction. As for audit cells, the
    next smallest year group is withheld too (``complementary``) until what is hidden (the
    withheld year groups and any pupils with no recorded year) is at least ``MIN_GROUP``
    pupils in at least two parts. A flag has no such sum: its rest is never shown alone."""
    if not withheld:
        return []
    without_year = arm_n - sum(row.n for row in years)
    shown = sorted(
        (row for row in years if row.value not in withheld), key=lambda r: (r.n, r.value)
    )
    parts = len(withheld) + (1 if without_year > 0 else 0)
    extra: list[str] = []
    while shown:
        hidden = arm_n - sum(row.n for row in shown)
        if hidden >= stats.MIN_GROUP and parts >= 2:
            break
        extra.append(shown.pop(0).value)
        parts += 1
    return extra
