"""Building blocks for the collaborative-enquiry tests (classroom action enquiries and learning
communities), called through the gateway as a front end would."""

from __future__ import annotations

from typing import Any

from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK

from .conftest import Api, days_ago

ENQUIRIES = "/v1/enquiries"
COMMUNITIES = "/v1/learning-communities"

# Our own examples in the spirit of the guide: one focused question, two weak ones.
GOOD_QUESTION = (
    "How can we improve the progress of Year 5 pupils eligible for pupil premium in "
    "explaining equivalent fractions in writing?"
)
GOOD_APPROACH = (
    "Every fortnight we compare book samples from the six focus pupils, observe two lessons "
    "each half term and interview the pupils about how they use the fraction wall."
)
WEAK_QUESTION = (
    "In order to address priority 2 of our school improvement plan, does using mini "
    "whiteboards raise standards across the school, and will it change behaviour?"
)
EXPERIMENT_QUESTION = "Does paired talk improve mental calculation in general?"


def pid(key: str) -> str:
    return str(PEOPLE_BY_KEY[key].id)


async def create_enquiry(api: Api, who: str, members: list[str], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Written explanations of equivalent fractions",
        "school_ids": [str(NORTHFIELD)],
        "subject": "Mathematics",
        "pupil_group": "Year 5 pupils eligible for pupil premium who still rely on drawings.",
        "question": GOOD_QUESTION,
        "planned_approach": GOOD_APPROACH,
        "member_ids": [pid(k) for k in members],
        **extra,
    }
    return await api.post(ENQUIRIES, who, body)


def member_id(enquiry: dict[str, Any], key: str) -> str:
    return next(m["id"] for m in enquiry["members"] if m["person_id"] == pid(key))


async def add_data(api: Api, enquiry_id: str, who: str, **extra: Any) -> dict[str, Any]:
    body = {
        "method": "book_sample",
        "collected_on": days_ago(3),
        "summary": "Four of six focus pupils wrote a reason; two drew a picture only.",
        "attachments": [{"title": "Scans, week 1", "reference": "shared drive/fractions/w1"}],
        **extra,
    }
    return await api.post(f"{ENQUIRIES}/{enquiry_id}/data", who, body)


async def add_finding(
    api: Api, enquiry_id: str, who: str, data_ids: list[str], **extra: Any
) -> dict[str, Any]:
    body = {
        "statement": "Sentence stems moved pupils from pictures to written reasons.",
        "data_entry_ids": data_ids,
        "alternative_interpretations": "The second week's task may simply have been easier.",
        **extra,
    }
    return await api.post(f"{ENQUIRIES}/{enquiry_id}/findings", who, body)


async def create_community(api: Api, who: str, members: list[str], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Reasoning in mathematics triad",
        "school_ids": [str(NORTHFIELD), str(SOUTHBANK)],
        "learning_priority": "Pupils explain their mathematical reasoning in full sentences.",
        "starts_on": days_ago(60),
        "ends_on": days_ago(-60),
        "membership_design": "Mixed on purpose: a primary and a secondary teacher and a TA.",
        "member_ids": [pid(k) for k in members],
        **extra,
    }
    return await api.post(COMMUNITIES, who, body)
