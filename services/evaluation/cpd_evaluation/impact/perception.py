"""Staff perception as impact evidence: the per-item change between a plan's baseline and
outcome audit rounds, from the aggregates each round released (respondents are anonymous, so
the rounds are compared as independent groups: design ``audit_aggregates``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.impact import queries, schemas, stats
from cpd_evaluation.models.measures import AuditRound, PlanAuditRounds


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
    item.effect_size = schemas.effect_read(effect)
    item.reading = stats.read_effect(
        effect,
        higher_is_better=True,
        n=smallest,
        subjects="respondents",
        change=stats.describe_change(item.mean_change),
    )
    return item


def _perception_withheld(row: queries.PerceptionRow) -> str | None:
    if not row.in_baseline:
        return "not_in_baseline_round"
    if not row.in_outcome:
        return "not_in_outcome_round"
    return row.baseline_withheld or row.outcome_withheld
