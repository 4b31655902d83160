"""The service's controlled vocabulary, as the API spells it."""

from __future__ import annotations

from typing import Literal

ActivityKind = Literal[
    "course",
    "inset",
    "coaching",
    "mentoring",
    "peer_coaching",
    "lesson_study",
    "enquiry_group",
    "learning_community",
    "online_course",
    "accredited_programme",
    "school_to_school",
    "conference",
]
ACTIVITY_KINDS: tuple[str, ...] = ActivityKind.__args__  # type: ignore[attr-defined]
ActivityStatus = Literal["active", "cancelled"]
ACTIVITY_STATUSES: tuple[str, ...] = ActivityStatus.__args__  # type: ignore[attr-defined]
ActivitySource = Literal["manual", "lessonstudy"]
ACTIVITY_SOURCES: tuple[str, ...] = ActivitySource.__args__  # type: ignore[attr-defined]
ParticipantRole = Literal[
    "participant",
    "facilitator",
    "coach",
    "coachee",
    "mentor",
    "mentee",
    "teacher",
    "observer",
    "knowledgeable_other",
]
PARTICIPANT_ROLES: tuple[str, ...] = ParticipantRole.__args__  # type: ignore[attr-defined]
HoursBasis = Literal["recorded", "lesson_study", "attendance"]

# Effective CPD runs over at least half a term: six weeks from the first session to a
# follow-up session (DOMAIN.md, "sustained over time").
SUSTAINED_MIN_DAYS = 42
DEFAULT_ENTITLEMENT_HOURS = 35.0
FORMER_PARTICIPANT = "Former participant"
ERASED_NAME = "a former participant"
KIND_LABELS = {
    "course": "Course",
    "inset": "INSET session",
    "coaching": "Coaching",
    "mentoring": "Mentoring",
    "peer_coaching": "Peer coaching",
    "lesson_study": "Lesson study",
    "enquiry_group": "Enquiry group",
    "learning_community": "Learning community",
    "online_course": "Online course",
    "accredited_programme": "Accredited programme (e.g. NPQ)",
    "school_to_school": "School-to-school support",
    "conference": "Conference",
}
