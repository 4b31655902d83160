"""Evidence by evaluation level and value for money, out. Aggregates only: never a person."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from cpd_evaluation.terms.plans import EvaluationLevel

# ---- evidence by level ------------------------------------------------------------------------


class ActivityReactions(BaseModel):
    """One activity's feedback as anyone but the author sees it: while the window is open only
    how many responded; after it closes, the means when enough responded."""

    activity_id: uuid.UUID
    title: str
    status: Literal["open", "closed"]
    responses: int
    participants: int
    released: bool
    withheld_reason: str | None = None
    relevance: float | None = None
    quality: float | None = None
    expected_impact: float | None = None


class Reactions(BaseModel):
    """Level 1: participants' reactions. The combined means come only from activities whose
    results are released, so no withheld activity can be worked out from them."""

    activities: list[ActivityReactions]
    released_activities: int
    responses: int = Field(description="Responses behind the combined means.")
    relevance: float | None = Field(None, description="1 to 5.")
    quality: float | None = None
    expected_impact: float | None = None


class Learning(BaseModel):
    """Level 2: participants' learning, from their reflective journals: counts only. Private
    entries are counted, never read."""

    shared_as_evidence: int
    shared_noting_pupil_effect: int = Field(
        description="Shared entries that say what happened for pupils."
    )
    private: int
    staff_measures: list[MeasureCounts] = Field(
        description="Staff confidence and staff survey measures of the plan."
    )


class Support(BaseModel):
    """Level 3: organisational support, as leaders recorded it."""

    records: int
    hours_given: float
    resources: list[str]
    barriers: list[str]


class Coaching(BaseModel):
    """Coaching milestones: counts over the plan's coaching and mentoring, never the log."""

    pairs: int = Field(description="Coaching agreements in place.")
    sessions: int
    hours: float
    sessions_reviewing_evidence: int = Field(
        description="Log entries that looked at classroom evidence (observation, video, work)."
    )
    sessions_noting_impact: int


class MeasureCounts(BaseModel):
    """A measure of the plan and how many values each phase holds (figures: ``/impact``)."""

    measure_id: uuid.UUID
    name: str
    kind: str
    subjects: str
    higher_is_better: bool
    baseline: int
    short_term: int
    medium_term: int


class UseOfLearning(BaseModel):
    """Level 4: use of new knowledge and skills."""

    delegates: int = Field(description="Participants other than facilitators.")
    gap_tasks_set: int
    gap_tasks_done: int
    impact_reports: int = Field(description="Delegates who reported the impact on their practice.")
    coaching: Coaching
    observation_measures: list[MeasureCounts] = Field(
        description="Measures rated by observation, with how many values per phase."
    )


class PupilOutcomes(BaseModel):
    """Level 5: the plan's pupil measures other than observations (their impact:
    ``/v1/evaluations/{id}/impact``)."""

    measures: list[MeasureCounts]


class Evidence(BaseModel):
    evaluation_id: uuid.UUID
    levels_planned: list[EvaluationLevel]
    reactions: Reactions
    learning: Learning
    organisational_support: Support
    use_of_knowledge_and_skills: UseOfLearning
    pupil_outcomes: PupilOutcomes


# ---- value for money --------------------------------------------------------------------------


class Costs(BaseModel):
    """In pounds. Cancelled activities count nothing."""

    fees: float
    materials: float
    supply_cover: float
    direct: float = Field(description="Fees, materials and supply cover.")
    participant_hours: float
    hourly_staff_cost: float | None = Field(
        description="The trust's setting (`/v1/evaluation-settings`); null while unset."
    )
    staff_time: float | None = Field(
        description="Participant hours x the hourly staff cost; null while the cost is unset."
    )
    total: float = Field(description="Direct costs plus staff time (when priced).")
    includes_staff_time: bool


class EffectValue(BaseModel):
    """What one pupil measure's change from the baseline cost: the cost per pupil for each 0.1
    standard deviation of improvement. Null, with the reason, when there is nothing honest to
    price (no improvement, or pupils reached unknown)."""

    measure_id: uuid.UUID
    name: str
    from_phase: str
    to_phase: str
    design: str
    effect_size: float = Field(description="Hedges' g, later minus earlier (see `/impact`).")
    ci_low: float
    ci_high: float
    improvement: float = Field(
        description="The effect in the direction of better (the sign flipped when lower is better)."
    )
    interval_includes_zero: bool
    cost_per_pupil_per_tenth_sd: float | None
    reason: str | None = None


class ValueForMoney(BaseModel):
    evaluation_id: uuid.UUID
    currency: Literal["GBP"] = "GBP"
    costs: Costs
    activities: int = Field(description="Activities counted (not cancelled).")
    participants: int = Field(description="Participants other than facilitators.")
    pupils_reached: int | None
    per_participant: float | None
    per_participant_hour: float | None
    per_pupil: float | None
    effects: list[EffectValue] = Field(
        description="Per pupil measure with an effect size (from the impact analysis)."
    )
    effects_reason: str | None = Field(
        None, description="Why there is no effect to price, when ``effects`` is empty."
    )
    notes: list[str]
