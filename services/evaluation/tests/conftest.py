"""Helpers for the evaluation tests: the demo trust's people and a thin API client that calls
the gateway as a front end would."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from cpd_common.testing.api import ApiClient
from cpd_common.testing.api import outbox as service_outbox
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY
from cpd_local.stack import Stack

BASE = "/v1/activities"


def person_id(key: str) -> str:
    return str(PEOPLE_BY_KEY[key].id)


class Api(ApiClient):
    """The shared client on the demo trust's people (by cpd_demo.trust key), with this service's
    building blocks."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack, base=BASE, people={k: p.id for k, p in PEOPLE_BY_KEY.items()})

    # ---- building blocks -------------------------------------------------------------------

    async def create_activity(
        self, who: str = "n-head", *, expect: int = 201, **fields: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": "Questioning for reasoning in KS2 maths",
            "kind": "course",
            "school_ids": [str(NORTHFIELD)],
            "subject_specific": True,
            "subject": "Mathematics",
            "focus": "Open questions that make pupils explain their reasoning.",
            "sessions": [
                {"title": "Day 1", "held_on": "2025-10-06", "duration_minutes": 360},
                {"title": "Day 2", "held_on": "2025-12-01", "duration_minutes": 360},
            ],
            "costs": {"fees": "450.00", "materials": "20", "supply_cover": "360"},
            "release_time_hours": 12,
        }
        body.update(fields)
        return await self.post("", who, body, expect=expect)

    async def add(
        self, activity_id: str, who: str, person: str, *, expect: int = 201, **fields: Any
    ) -> dict[str, Any]:
        return await self.post(
            f"/{activity_id}/participants",
            who,
            {"person_id": person_id(person) if person in PEOPLE_BY_KEY else person, **fields},
            expect=expect,
        )


async def outbox(stack: Stack, event_type: str) -> list[dict[str, Any]]:
    """The envelopes of one type in the evaluation outbox, oldest first."""
    return await service_outbox(stack, "evaluation", event_type)


def weeks_after(start: str, days: int) -> str:
    return (date.fromisoformat(start) + timedelta(days=days)).isoformat()


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """The evaluation tests need the gateway (directory, tokens, routing) and this service. A
    test module that follows another service's events (lesson studies, the needs register)
    adds that service by overriding this fixture."""
    return ("gateway", "evaluation")


@pytest.fixture
async def api(demo: Stack) -> Api:
    return Api(demo)
