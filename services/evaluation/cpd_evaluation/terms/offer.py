"""The vocabulary of the trust's CPD offer: the progression ladder, programme formats,
requests and their states."""

from __future__ import annotations

from typing import Literal

Track = Literal["teaching", "support"]
TRACKS: tuple[str, ...] = Track.__args__  # type: ignore[attr-defined]

ProgrammeFormat = Literal[
    "in_house",
    "teaching_school_hub",
    "external",
    "higher_education",
    "school_to_school",
    "online_blended",
]
PROGRAMME_FORMATS: tuple[str, ...] = ProgrammeFormat.__args__  # type: ignore[attr-defined]

RequestKind = Literal["place", "study"]
REQUEST_KINDS: tuple[str, ...] = RequestKind.__args__  # type: ignore[attr-defined]
RequestStatus = Literal["submitted", "approved", "declined", "cancelled"]
REQUEST_STATUSES: tuple[str, ...] = RequestStatus.__args__  # type: ignore[attr-defined]
RunStatus = Literal["published", "cancelled"]
RUN_STATUSES: tuple[str, ...] = RunStatus.__args__  # type: ignore[attr-defined]

# Budgets group spend by format; professional study and activities recorded by hand are
# grouped under these names beside the programme formats.
PROFESSIONAL_STUDY = "professional_study"
UNASSIGNED_NEED = "unassigned"

# How an activity recorded by hand counts in "spend by format".
KIND_FORMATS = {
    "course": "external",
    "inset": "in_house",
    "coaching": "in_house",
    "mentoring": "in_house",
    "peer_coaching": "in_house",
    "lesson_study": "in_house",
    "enquiry_group": "in_house",
    "learning_community": "in_house",
    "online_course": "online_blended",
    "accredited_programme": "higher_education",
    "school_to_school": "school_to_school",
    "conference": "external",
}
# The activity kind a published programme run is recorded as.
FORMAT_KINDS = {
    "in_house": "inset",
    "teaching_school_hub": "course",
    "external": "course",
    "higher_education": "accredited_programme",
    "school_to_school": "school_to_school",
    "online_blended": "online_course",
}

# The default progression ladder seeded for each trust (the shape of a typical academy
# handbook's appendix: a teaching ladder and a support-staff ladder). ``staff_groups`` and
# ``career_stages`` say which directory people sit on the rung (the highest matching rung
# wins); rungs with no match are chosen by hand in programmes' audiences.
DEFAULT_LADDER: tuple[dict[str, object], ...] = (
    {
        "track": "teaching",
        "key": "early_career",
        "name": "Early-career teacher",
        "rank": 1,
        "description": "The first years in the classroom, with the induction entitlement.",
        "staff_groups": ["teacher"],
        "career_stages": ["ect", "early_career"],
    },
    {
        "track": "teaching",
        "key": "experienced_teacher",
        "name": "Experienced teacher",
        "rank": 2,
        "description": "Established classroom practitioners deepening subject expertise.",
        "staff_groups": ["teacher"],
        "career_stages": ["mid_career", "experienced"],
    },
    {
        "track": "teaching",
        "key": "middle_leader",
        "name": "Middle leader",
        "rank": 3,
        "description": "Subject, phase and pastoral leaders.",
        "staff_groups": [],
        "career_stages": [],
    },
    {
        "track": "teaching",
        "key": "senior_leader",
        "name": "Senior leader",
        "rank": 4,
        "description": "Members of a school's senior leadership team.",
        "staff_groups": ["leader"],
        "career_stages": [],
    },
    {
        "track": "teaching",
        "key": "headteacher",
        "name": "Headteacher",
        "rank": 5,
        "description": "Heads and executive heads.",
        "staff_groups": [],
        "career_stages": [],
    },
    {
        "track": "support",
        "key": "teaching_assistant",
        "name": "Teaching assistant",
        "rank": 1,
        "description": "Classroom support staff.",
        "staff_groups": ["teaching_assistant"],
        "career_stages": [],
    },
    {
        "track": "support",
        "key": "hlta",
        "name": "Higher level teaching assistant",
        "rank": 2,
        "description": "Assistants preparing for or holding HLTA status.",
        "staff_groups": [],
        "career_stages": [],
    },
    {
        "track": "support",
        "key": "support_leadership",
        "name": "Support-staff leader",
        "rank": 3,
        "description": "Those who lead teams of support staff.",
        "staff_groups": ["support"],
        "career_stages": ["experienced"],
    },
)
