"""The vocabulary of measures and observations, as the API spells it."""

from __future__ import annotations

from typing import Literal

# What a measure records (the evaluation tool's kinds of baseline and outcome data).
MeasureKind = Literal[
    "test_score",
    "teacher_assessment",
    "observation_rating",
    "work_sample_rating",
    "pupil_attitude_survey",
    "attendance",
    "behaviour_points",
    "staff_survey_item",
    "staff_confidence",
]
MEASURE_KINDS: tuple[str, ...] = MeasureKind.__args__  # type: ignore[attr-defined]

# Who is measured: pupils (keyed by a pseudonym) or staff (keyed by their person id).
MeasureSubjects = Literal["pupils", "staff"]
MEASURE_SUBJECTS: tuple[str, ...] = MeasureSubjects.__args__  # type: ignore[attr-defined]

# When a value was taken: before the CPD, at its end, a couple of terms later.
Phase = Literal["baseline", "short_term", "medium_term"]
PHASES: tuple[str, ...] = Phase.__args__  # type: ignore[attr-defined]

# Which arm of the design a subject is in: taught by the CPD's participants, or a comparison.
ObservationGroup = Literal["cpd", "comparison"]
OBSERVATION_GROUPS: tuple[str, ...] = ObservationGroup.__args__  # type: ignore[attr-defined]

# Lesson study: how far a case pupil met a stage's success criteria.
StageOutcome = Literal["met", "partly", "not_yet"]
