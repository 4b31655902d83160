"""Helpers for the lesson study tests: the demo trust's people, a thin API client and the
building blocks of a study (all through the gateway, as a front end would call it)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cpd_common.testing.api import ApiClient
from cpd_common.testing.api import outbox as service_outbox
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY
from cpd_local.stack import Stack

BASE = "/v1/lesson-studies"


def days_ago(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """The lesson study tests need the gateway, the audit service (needs linked to enquiries)
    and the lesson study service; not the evaluation service."""
    return ("gateway", "audit", "lessonstudy")


class Api(ApiClient):
    """The shared client on the demo trust's people (by cpd_demo.trust key), with this service's
    building blocks."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack, base=BASE, people={k: p.id for k, p in PEOPLE_BY_KEY.items()})

    # ---- building blocks -------------------------------------------------------------------

    async def create_study(self, who: str, members: dict[str, str], **extra: Any) -> dict[str, Any]:
        body = {
            "title": "Reasoning about equivalent fractions in Year 4",
            "school_ids": [str(NORTHFIELD)],
            "subject": "Mathematics",
            "year_group": "Year 4",
            "learning_goal": "By the end of the lesson pupils will be able to explain why two "
            "fractions are equivalent using a fraction wall.",
            "success_evidence": "we will know this when they can justify 2/4 = 1/2 in words.",
            "technique": "Using concrete representations before abstract notation.",
            "research_question": "Does a fraction wall help pupils explain equivalence?",
            "members": [
                {"person_id": str(PEOPLE_BY_KEY[k].id), "role": role} for k, role in members.items()
            ],
            **extra,
        }
        return await self.post("", who, body)

    async def add_case_pupils(
        self, study_id: str, who: str, labels: str = "ABC"
    ) -> list[dict[str, Any]]:
        profiles = {
            "A": (
                "Typical of the lower-attaining third; finds written explanations hard.",
                "Can shade halves and quarters of a shape.",
                "Names one pair of equivalent fractions using the wall.",
            ),
            "B": (
                "Typical of middle attainers; confident with halves.",
                "Recognises 1/2 = 2/4 from a picture.",
                "Explains why 3/6 = 1/2 in a sentence.",
            ),
            "C": (
                "Typical of higher attainers; quick but rarely explains.",
                "Knows several equivalences by heart.",
                "Generalises: multiplying top and bottom by the same number.",
            ),
        }
        out = []
        for label in labels:
            profile, start, criteria = profiles[label]
            out.append(
                await self.post(
                    f"/{study_id}/case-pupils",
                    who,
                    {
                        "label": label,
                        "profile": profile,
                        "starting_point": start,
                        "success_criteria": criteria,
                    },
                )
            )
        return out

    async def plan_lesson(
        self, study_id: str, who: str, teacher_member_id: str, n_stages: int = 3, **extra: Any
    ) -> dict[str, Any]:
        stages = [
            {
                "title": "Starter: which is bigger, 1/2 or 2/4?",
                "description": "Pairs vote and justify.",
            },
            {"title": "Build equivalent fractions on the wall"},
            {"title": "Explain to a partner, then write it down"},
            {"title": "Exit question"},
        ][:n_stages]
        return await self.post(
            f"/{study_id}/research-lessons",
            who,
            {"teacher_member_id": teacher_member_id, "stages": stages, **extra},
        )

    async def predict_all(
        self, study_id: str, lesson: dict[str, Any], pupils: list[dict[str, Any]], who: str
    ) -> dict[str, Any]:
        return await self.put(
            f"/{study_id}/research-lessons/{lesson['id']}/predictions",
            who,
            {
                "predictions": [
                    {
                        "stage_id": s["id"],
                        "case_pupil_id": p["id"],
                        "response": prediction_text(lesson["cycle"], s["position"], p["label"]),
                    }
                    for s in lesson["stages"]
                    for p in pupils
                ]
            },
        )


def prediction_text(cycle: int, stage: int, label: str) -> str:
    return f"Prediction c{cycle} s{stage} {label}: will point at the wall before answering."


def member_ids(study: dict[str, Any]) -> dict[str, str]:
    """Demo key -> membership id."""
    by_person = {str(p.id): k for k, p in PEOPLE_BY_KEY.items()}
    return {by_person[m["person_id"]]: m["id"] for m in study["members"] if m["person_id"]}


async def outbox(stack: Stack, event_type: str) -> list[dict[str, Any]]:
    """The envelopes of one type in the lessonstudy outbox, oldest first."""
    return await service_outbox(stack, "lessonstudy", event_type)


@pytest.fixture
async def api(demo: Stack) -> Api:
    return Api(demo)


def new_id() -> str:
    return str(uuid.uuid4())
