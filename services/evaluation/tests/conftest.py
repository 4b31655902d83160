"""Helpers for the evaluation tests: the demo trust's people and a thin API client that calls
the gateway as a front end would."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cpd_common.demo_data import NORTHFIELD, PEOPLE_BY_KEY
from cpd_common.testing.stack import Stack
from cpd_evaluation.models import OutboxEvent

BASE = "/v1/activities"


def person_id(key: str) -> str:
    return str(PEOPLE_BY_KEY[key].id)


class Api:
    """Calls the gateway as demo people (by demo_data key, or any person id) and checks
    status codes."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._headers: dict[str, dict[str, str]] = {}

    async def headers(self, who: str) -> dict[str, str]:
        if who not in self._headers:
            pid = PEOPLE_BY_KEY[who].id if who in PEOPLE_BY_KEY else uuid.UUID(who)
            self._headers[who] = await self.stack.headers_for(pid)
        return self._headers[who]

    async def call(
        self,
        method: str,
        path: str,
        who: str,
        *,
        expect: int | None = 200,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        url = path if path.startswith("/v1") else BASE + path
        resp = await self.stack.gateway.request(
            method, url, headers={**(await self.headers(who)), **(headers or {})}, **kw
        )
        if expect is not None:
            assert resp.status_code == expect, (
                f"{method} {url} as {who}: {resp.status_code} {resp.text}"
            )
        return resp

    async def get(self, path: str, who: str, **kw: Any) -> Any:
        return (await self.call("GET", path, who, **kw)).json()

    async def post(
        self, path: str, who: str, json: Any = None, *, expect: int = 201, **kw: Any
    ) -> Any:
        return (await self.call("POST", path, who, json=json, expect=expect, **kw)).json()

    async def put(self, path: str, who: str, json: Any, *, expect: int = 200, **kw: Any) -> Any:
        return (await self.call("PUT", path, who, json=json, expect=expect, **kw)).json()

    async def patch(self, path: str, who: str, json: Any, *, expect: int = 200) -> Any:
        etag = (await self.call("GET", path, who)).headers["etag"]
        return (
            await self.call(
                "PATCH", path, who, json=json, expect=expect, headers={"If-Match": etag}
            )
        ).json()

    async def delete(self, path: str, who: str, *, expect: int = 204) -> httpx.Response:
        etag = (await self.call("GET", path, who)).headers["etag"]
        return await self.call("DELETE", path, who, expect=expect, headers={"If-Match": etag})

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
    async with stack.session("evaluation") as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.seq)
        )
        return [r.envelope for r in rows]


def weeks_after(start: str, days: int) -> str:
    return (date.fromisoformat(start) + timedelta(days=days)).isoformat()


@pytest.fixture
async def api(demo: Stack) -> Api:
    return Api(demo)
