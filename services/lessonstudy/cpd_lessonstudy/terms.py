"""The service's controlled vocabulary, as the API spells it."""

from __future__ import annotations

from typing import Literal

MemberRole = Literal["teacher", "observer", "facilitator", "knowledgeable_other"]
StudyStatus = Literal["planning", "in_cycle", "findings", "completed", "shared"]
LessonStatus = Literal["planned", "taught", "completed"]
Outcome = Literal["met", "partly", "not_yet"]
TimeKind = Literal["meeting", "planning", "teaching", "observing"]

FORMER_MEMBER = "Former member"
OUTCOME_WORDS = {"met": "met", "partly": "partly", "not_yet": "not yet"}
# When observers disagree about a cell, the more cautious outcome wins a tie.
OUTCOME_CAUTION = {"not_yet": 0, "partly": 1, "met": 2}
