"""The service's controlled vocabulary, as the API spells it."""

from __future__ import annotations

from typing import Literal

MemberRole = Literal["teacher", "observer", "facilitator", "knowledgeable_other"]
StudyStatus = Literal["planning", "in_cycle", "findings", "completed", "shared"]
LessonStatus = Literal["planned", "taught", "completed"]
Outcome = Literal["met", "partly", "not_yet"]
TimeKind = Literal["meeting", "planning", "teaching", "observing"]

# Collaborative enquiry: classroom action enquiries and learning communities.
EnquiryStatus = Literal["planning", "active", "completed"]
GroupRole = Literal["coordinator", "member"]
QuestionAnswer = Literal["yes", "not_yet"]
DataMethod = Literal[
    "book_sample",
    "observation",
    "learning_walk",
    "assessment",
    "questionnaire",
    "interview",
    "concept_mapping",
    "climate_mapping",
    "hot_spotting",
    "other",
]
Agreement = Literal["yes", "partly", "no"]
Tally = Literal["yes", "partly", "no", "not_checked"]
ConclusionsHeld = Literal["pending", "held", "partly", "not_held"]
DisseminationForm = Literal[
    "sharing_session",
    "presentation",
    "written_report",
    "poster",
    "open_house",
    "tool_or_artefact",
    "pupil_feedback",
    "other",
]
PupilVoiceKind = Literal["views", "critique", "co_design"]
EnquiryTimeKind = Literal["meeting", "data_collection", "analysis", "reporting", "other"]
CommunityActivityKind = Literal["enquiry", "lesson_study", "peer_coaching"]
ShareKind = Literal["sharing_session", "tool", "artefact", "open_house", "other"]

FORMER_MEMBER = "Former member"
OUTCOME_WORDS = {"met": "met", "partly": "partly", "not_yet": "not yet"}
# When observers disagree about a cell, the more cautious outcome wins a tie.
OUTCOME_CAUTION = {"not_yet": 0, "partly": 1, "met": 2}
