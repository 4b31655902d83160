"""The vocabulary of evaluation plans, as the API spells it."""

from __future__ import annotations

from typing import Literal

# The five levels at which CPD can be evaluated, from participants' reactions to pupils'
# outcomes (DOMAIN.md, "evaluation levels").
EvaluationLevel = Literal[
    "reactions",
    "learning",
    "organisational_support",
    "use_of_knowledge_and_skills",
    "pupil_outcomes",
]
EVALUATION_LEVELS: tuple[str, ...] = EvaluationLevel.__args__  # type: ignore[attr-defined]

# A plan moves forward through these, never back.
PlanStatus = Literal[
    "planned",
    "baseline_captured",
    "short_term_captured",
    "medium_term_captured",
    "reported",
]
PLAN_STATUSES: tuple[str, ...] = PlanStatus.__args__  # type: ignore[attr-defined]

PlanWarningCode = Literal["no_baseline", "outcomes_do_not_mirror_baseline", "only_reactions"]

# The status a plan reaches when each of its points is captured (the report: ``reported``).
POINT_STATUS = {
    "baseline": "baseline_captured",
    "short_term": "short_term_captured",
    "medium_term": "medium_term_captured",
    "report": "reported",
}


def statuses_before(point: str) -> tuple[str, ...]:
    """The statuses of a plan that has not captured ``point`` yet."""
    return PLAN_STATUSES[: PLAN_STATUSES.index(POINT_STATUS[point])]
