"""The impact of an evaluation plan: for each of its measures and each phase pair with data,
the figures of the subjects measured at both points, the design (same subjects twice, or the
CPD group against a comparison group), the effect size with its 95% interval and a plain
reading, who dropped out, and whether the gaps between pupil groups narrowed; and the change
in staff perception between the plan's baseline and outcome audit rounds.

The honesty rules live here: below ``stats.MIN_SUBJECTS`` no effect size, only the raw
change; below ``stats.SMALL_SAMPLE`` a warning; attrition always counted and named; a pupil
group under ``stats.MIN_GROUP`` (or a rest that small) withheld with its reason.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.impact import queries, schemas, stats
from cpd_evaluation.models.measures import AuditRound, Measure, PlanAuditRounds
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
                comparisons=[
                    _comparison(m, key, rows, gaps.get(key, []))
                    for key, rows in arms.items()
                    if key[0] == m.id
                ],
            )
            for m in measures
        ],
        perception=await perception_impact(session, plan.id),
    )


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


def effect_read(effect: stats.EffectSize) -> schemas.EffectSizeRead:
    return schemas.EffectSizeRead(
        design=effect.design,
        value=round(effect.g, 4),
        d=round(effect.d, 4),
        standard_error=round(effect.se, 4),
        ci_low=round(effect.ci_low, 4),
        ci_high=round(effect.ci_high, 4),
        confidence=effect.confidence,
        magnitude=stats.magnitude(effect.g),
    )


def _attrition_notice(row: queries.ArmRow, *, subjects: str, to_phase: str) -> schemas.Notice:
    return schemas.Notice(
        code="attrition",
        message=f"{row.missing_after} of the {row.measured_before} {subjects} of the "
        f"{ARM_WORDS[row.arm]} measured earlier have no {PHASE_WORDS[to_phase]} value "
        f"({row.missing_after / row.measured_before:.0%}); the change is over the {row.n} "
        "measured at both points, who may differ from those who left.",
    )


def _comparison(
    measure: Measure, key: PairKey, rows: list[queries.ArmRow], gap_rows: list[queries.GapRow]
) -> schemas.PhaseComparison:
    _, from_phase, to_phase = key
    subjects = "pupils" if measure.subjects == "pupils" else "staff"
    by_arm = {row.arm: row for row in rows}
    cpd = by_arm.get("cpd") or _empty_arm(key, "cpd")
    comparison = by_arm.get("comparison")
    design: stats.Design = (
        "groups_change" if comparison is not None and comparison.n > 0 else "paired_change"
    )
    warnings = [
        _attrition_notice(row, subjects=subjects, to_phase=to_phase)
        for row in rows
        if row.missing_after
    ]
    measured: list[queries.ArmRow | None] = (
        [cpd] if design == "paired_change" else [cpd, comparison]
    )
    sizes = [row.n for row in measured if row is not None]
    smallest = min(sizes)
    check = stats.check_sample(*sizes)
    effect: stats.EffectSize | None = None
    if check == "too_few_subjects":
        warnings.append(_too_few(measured, subjects=subjects))
    else:
        effect = _effect(design, cpd, comparison)
        if effect is None:
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
        reading = stats.read_effect(
            effect, higher_is_better=measure.higher_is_better, n=smallest, subjects=subjects
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
        effect_size=effect_read(effect) if effect is not None else None,
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


def _too_few(measured: list[queries.ArmRow | None], *, subjects: str) -> schemas.Notice:
    parts = [f"{row.n} in the {ARM_WORDS[row.arm]}" for row in measured if row is not None]
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


# ---- staff perception: two audit rounds ------------------------------------------------------


async def perception_impact(
    session: AsyncSession, plan_id: uuid.UUID
) -> schemas.PerceptionImpact | None:
    """The per-item change between the plan's baseline and outcome audit rounds (design
    ``audit_aggregates``), or None when the plan names no pair."""
    pair = await session.get(PlanAuditRounds, plan_id)
    if pair is None:
        return None
    rounds = {
        r.audit_id: r
        for r in await session.scalars(
            select(AuditRound).where(
                AuditRound.audit_id.in_([pair.baseline_audit_id, pair.outcome_audit_id])
            )
        )
    }
    baseline, outcome = rounds.get(pair.baseline_audit_id), rounds.get(pair.outcome_audit_id)
    rows = await queries.perception_rows(
        session,
        baseline_audit_id=pair.baseline_audit_id,
        outcome_audit_id=pair.outcome_audit_id,
    )
    return schemas.PerceptionImpact(
        baseline_audit_id=pair.baseline_audit_id,
        outcome_audit_id=pair.outcome_audit_id,
        title=next((r.title for r in (outcome, baseline) if r is not None), ""),
        baseline_respondents=baseline.respondent_count if baseline else None,
        outcome_respondents=outcome.respondent_count if outcome else None,
        items=[perception_item(row) for row in rows],
    )


def perception_item(row: queries.PerceptionRow) -> schemas.PerceptionItem:
    """One item's change from per-round aggregates: Hedges' g from summary statistics."""
    practice = (
        row.baseline_mean is None
        and row.outcome_mean is None
        and (row.baseline_mean_practice is not None or row.outcome_mean_practice is not None)
    )
    if practice:
        before = schemas.RoundFigures(
            n=row.baseline_n, mean=row.baseline_mean_practice, sd=row.baseline_sd_practice
        )
        after = schemas.RoundFigures(
            n=row.outcome_n, mean=row.outcome_mean_practice, sd=row.outcome_sd_practice
        )
    else:
        before = schemas.RoundFigures(n=row.baseline_n, mean=row.baseline_mean, sd=row.baseline_sd)
        after = schemas.RoundFigures(n=row.outcome_n, mean=row.outcome_mean, sd=row.outcome_sd)
    item = schemas.PerceptionItem(
        item_key=row.item_key,
        facet="practice" if practice else "score",
        baseline=before,
        outcome=after,
        reading="",
        warnings=[],
    )
    withheld = _perception_withheld(row)
    if withheld is not None or None in (before.n, before.mean, after.n, after.mean):
        item.withheld = withheld or "no_figures"
        item.reading = (
            "The audit released no figures for this item in both rounds, so there is no "
            "change to report."
        )
        return item
    assert before.n is not None and after.n is not None
    assert before.mean is not None and after.mean is not None
    item.mean_change = after.mean - before.mean
    check = stats.check_sample(before.n, after.n)
    smallest = min(before.n, after.n)
    if check == "too_few_subjects":
        item.warnings.append(
            schemas.Notice(
                code="too_few_subjects",
                message=f"Respondents: {before.n} at baseline, {after.n} after. Under "
                f"{stats.MIN_SUBJECTS} an effect size would mislead, so only the raw change "
                "is given.",
            )
        )
        item.reading = stats.read_raw_change(
            item.mean_change,
            higher_is_better=True,
            n=smallest,
            subjects="respondents",
            counted="in the smaller round",
        )
        return item
    effect = stats.between_groups(
        stats.Summary(after.n, after.mean, after.sd or 0.0),
        stats.Summary(before.n, before.mean, before.sd or 0.0),
        design="audit_aggregates",
    )
    if effect is None:
        item.warnings.append(
            schemas.Notice(
                code="no_variation",
                message="Every respondent gave the same answer: no effect size.",
            )
        )
        item.reading = stats.read_raw_change(
            item.mean_change,
            higher_is_better=True,
            n=smallest,
            subjects="respondents",
            counted="in the smaller round",
            too_few=False,
        )
        return item
    if check == "small_sample":
        item.warnings.append(
            schemas.Notice(
                code="small_sample",
                message=f"Only {smallest} respondents in the smaller round (under "
                f"{stats.SMALL_SAMPLE}): the effect size is unreliable.",
            )
        )
    item.effect_size = effect_read(effect)
    item.reading = stats.read_effect(
        effect, higher_is_better=True, n=smallest, subjects="respondents"
    )
    return item


def _perception_withheld(row: queries.PerceptionRow) -> str | None:
    if not row.in_baseline:
        return "not_in_baseline_round"
    if not row.in_outcome:
        return "not_in_outcome_round"
    return row.baseline_withheld or row.outcome_withheld
