"""What ``GET /v1/evaluations/{id}/impact`` answers: per measure and phase pair the figures,
the design, the effect size with its interval and a plain reading, the attrition and the gaps
between pupil groups; and the staff-perception change between two audit rounds."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from cpd_evaluation.impact import stats

Phase = Literal["baseline", "short_term", "medium_term"]
Arm = Literal["cpd", "comparison"]
Flag = Literal["disadvantaged", "send", "year_group"]
NoticeCode = Literal["small_sample", "too_few_subjects", "no_variation", "attrition"]
GapWithheld = Literal["group_under_5", "rest_under_5", "complementary"]


class Notice(BaseModel):
    code: NoticeCode
    message: str


class Spread(BaseModel):
    mean: float | None = None
    sd: float | None = Field(None, description="Sample standard deviation (n - 1).")


class ArmChange(BaseModel):
    """One arm's subjects measured at both phases (only they enter the change)."""

    arm: Arm
    n: int = Field(description="Subjects with a value at both phases.")
    before: Spread
    after: Spread
    mean_change: float | None = Field(None, description="Mean of (later - earlier).")
    sd_change: float | None = None
    correlation: float | None = Field(
        None, description="Pearson correlation of the two values (paired data)."
    )


class Attrition(BaseModel):
    """Who the change leaves out, never dropped silently."""

    arm: Arm
    measured_before: int = Field(description="Subjects with a value at the earlier phase.")
    missing_after: int = Field(
        description="Of those, subjects with no value at the later phase (attrition)."
    )
    rate: float | None = Field(None, description="missing_after / measured_before.")
    only_after: int = Field(
        description="Subjects with a later value but no earlier one (not in the change)."
    )


class EffectSizeRead(BaseModel):
    design: stats.Design
    value: float = Field(description="Hedges' g (small-sample corrected), later minus earlier.")
    d: float = Field(description="The same before Hedges' correction.")
    standard_error: float
    ci_low: float
    ci_high: float
    confidence: float = Field(description="0.95: the interval is a 95% confidence interval.")
    magnitude: stats.Magnitude = Field(
        description="Cohen's benchmarks on |g|: 0.2 small, 0.5 medium, 0.8 large."
    )


def effect_read(effect: stats.EffectSize) -> EffectSizeRead:
    return EffectSizeRead(
        design=effect.design,
        value=round(effect.g, 4),
        d=round(effect.d, 4),
        standard_error=round(effect.se, 4),
        ci_low=round(effect.ci_low, 4),
        ci_high=round(effect.ci_high, 4),
        confidence=effect.confidence,
        magnitude=stats.magnitude(effect.g),
    )


class GapSide(BaseModel):
    n: int
    mean_before: float
    mean_after: float
    mean_change: float


class GroupGap(BaseModel):
    """A pupil group (a flag, or one year group) against the rest of the CPD group's pupils
    measured at both phases. ``gap_*`` are in the measure's units, positive when the group is
    behind. Withheld, with the reason, when the group or the rest has fewer than 5 pupils, or
    (``complementary``) when a year group's figures would give back a withheld one by
    subtraction."""

    flag: Flag
    value: str = Field(description="`true` for a flag, the year group otherwise.")
    withheld: GapWithheld | None = None
    group: GapSide | None = None
    rest: GapSide | None = None
    gap_before: float | None = None
    gap_after: float | None = None
    narrowed: bool | None = None


class PhaseComparison(BaseModel):
    from_phase: Phase
    to_phase: Phase
    design: stats.Design
    design_label: str
    arms: list[ArmChange]
    attrition: list[Attrition]
    effect_size: EffectSizeRead | None = Field(
        None, description="Absent below 10 subjects (in the smallest group) or without spread."
    )
    reading: str = Field(description="A plain-language reading of the result and its certainty.")
    warnings: list[Notice]
    gaps: list[GroupGap] = Field(description="Only for pupil measures.")


class PhaseCounts(BaseModel):
    baseline: int = 0
    short_term: int = 0
    medium_term: int = 0


class MeasureImpact(BaseModel):
    measure_id: uuid.UUID
    name: str
    kind: str
    subjects: str
    higher_is_better: bool
    subjects_per_phase: PhaseCounts = Field(
        description="Subjects with a value at each phase: a pair is compared once both of its "
        "phases hold data."
    )
    comparisons: list[PhaseComparison] = Field(
        description="Each phase pair with values at both phases."
    )


class RoundFigures(BaseModel):
    n: int | None = None
    mean: float | None = None
    sd: float | None = None


class PerceptionItem(BaseModel):
    """One audit item: the outcome round against the baseline round."""

    item_key: str
    facet: Literal["score", "practice"] = Field(
        description="`practice` for values-and-practice items (how things are done now)."
    )
    baseline: RoundFigures
    outcome: RoundFigures
    mean_change: float | None = None
    effect_size: EffectSizeRead | None = None
    reading: str
    warnings: list[Notice]
    withheld: str | None = Field(
        None, description="Why the audit released no figures for the item in a round."
    )


class PerceptionImpact(BaseModel):
    baseline_audit_id: uuid.UUID
    outcome_audit_id: uuid.UUID
    title: str
    baseline_respondents: int | None = None
    outcome_respondents: int | None = None
    items: list[PerceptionItem]


class Thresholds(BaseModel):
    no_effect_size_below: int = stats.MIN_SUBJECTS
    small_sample_below: int = stats.SMALL_SAMPLE
    group_withheld_below: int = stats.MIN_GROUP
    confidence: float = stats.CONFIDENCE


class ImpactRead(BaseModel):
    evaluation_id: uuid.UUID
    measures: list[MeasureImpact]
    perception: PerceptionImpact | None = Field(
        None, description="Staff perception from a baseline and an outcome audit round."
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
