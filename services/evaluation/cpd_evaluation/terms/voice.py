"""Vocabulary of participant voice, coaching, providers and follow-ups, as the API spells it."""

from __future__ import annotations

from typing import Literal

ProviderKind = Literal["in_house", "teaching_school_hub", "external"]
PROVIDER_KINDS: tuple[str, ...] = ProviderKind.__args__  # type: ignore[attr-defined]
CoachingEvidence = Literal["observation", "video", "pupil_work", "planning", "pupil_voice"]
COACHING_EVIDENCE: tuple[str, ...] = CoachingEvidence.__args__  # type: ignore[attr-defined]
FollowUpKind = Literal[
    "gap_task",
    "impact_report",
    "coaching_session",
    "feedback",
    "evaluation_baseline",
    "evaluation_short_term",
    "evaluation_medium_term",
    "evaluation_report",
    "request_decision",
]
FOLLOW_UP_KINDS: tuple[str, ...] = FollowUpKind.__args__  # type: ignore[attr-defined]
# Kinds the worker tells as they fall due (one notice each); a request is told when made.
NOTICE_KINDS = tuple(k for k in FOLLOW_UP_KINDS if k != "request_decision")

# Activities whose learning log is walled off from appraisal.
COACHING_KINDS = ("coaching", "mentoring", "peer_coaching")
# Figures about people are withheld below this many (DESIGN.md 7: small groups suppressed).
MIN_GROUP = 5
# Without a window set by a leader, feedback closes this long after the last session (or after
# the first feedback, when that is later).
FEEDBACK_WINDOW_DAYS = 14
# A delegate's impact report falls due this long after the training's last session.
IMPACT_REPORT_AFTER_DAYS = 28
