"""Building blocks of the directory tests: the demo logins, problem and Created checks, the
If-Match round trip, outbox reads, page walking and a new person's body."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from cpd_common.testing.api import assert_problem as assert_problem
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, OAKRIDGE, PEOPLE
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]


LEADER = DEMO_CREDENTIALS["school leader (Northfield)"]


TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]


GOVERNOR = DEMO_CREDENTIALS["governor (Northfield)"]


RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]


OAKRIDGE_PEOPLE = [p for p in PEOPLE if p.trust_id == OAKRIDGE]


DOMAIN_SERVICES = ("audit", "lessonstudy", "evaluation")


def error_locs(body: dict[str, Any]) -> list[str]:
    for err in body["errors"]:
        assert isinstance(err["loc"], str) and isinstance(err["msg"], str), err
    return [e["loc"] for e in body["errors"]]


def assert_created(resp: httpx.Response, collection: str) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert resp.headers["location"] == f"{collection}/{body['id']}"
    assert resp.headers["etag"].startswith('"')
    uuid.UUID(body["id"])
    return body


async def check_preconditions(
    stack: Stack,
    headers: dict[str, str],
    url: str,
    change: dict[str, Any],
    check: str,
) -> httpx.Response:
    """GET has an ETag; PATCH without If-Match is 428, with a stale one 412, with the fresh one
    200 (and a new ETag that a GET then agrees with, and that works for the next PATCH)."""
    got = await stack.gateway.get(url, headers=headers)
    assert got.status_code == 200, got.text
    etag = got.headers["etag"]

    missing = await stack.gateway.patch(url, headers=headers, json=change)
    assert "If-Match" in assert_problem(missing, 428)["detail"]
    stale = await stack.gateway.patch(
        url, headers={**headers, "If-Match": '"0123456789abcdef01234567"'}, json=change
    )
    assert_problem(stale, 412)
    unknown_field = await stack.gateway.patch(
        url, headers={**headers, "If-Match": etag}, json={**change, "colour": "red"}
    )
    assert error_locs(assert_problem(unknown_field, 422)) == ["body.colour"]
    unchanged = await stack.gateway.get(url, headers=headers)
    assert unchanged.headers["etag"] == etag, "a refused PATCH must change nothing"

    done = await stack.gateway.patch(url, headers={**headers, "If-Match": etag}, json=change)
    assert done.status_code == 200, done.text
    assert done.json()[check] == change[check]
    new_etag = done.headers["etag"]
    assert new_etag != etag
    again = await stack.gateway.get(url, headers=headers)
    assert again.headers["etag"] == new_etag
    assert again.json() == done.json()
    # The old ETag is stale now.
    assert_problem(
        await stack.gateway.patch(url, headers={**headers, "If-Match": etag}, json=change), 412
    )
    return done


async def outbox_events(stack: Stack, event_type: str, subject: str) -> list[dict[str, Any]]:
    async with stack.session("gateway") as session:
        rows = await session.execute(
            text(
                "SELECT envelope FROM outbox WHERE type = :type AND envelope->>'subject' = :subject"
                " ORDER BY seq"
            ),
            {"type": event_type, "subject": subject},
        )
        return [r.envelope for r in rows]


async def all_pages(
    stack: Stack, headers: dict[str, str], url: str, limit: int, **filters: Any
) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **filters}
        if cursor:
            params["cursor"] = cursor
        resp = await stack.gateway.get(url, headers=headers, params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


def new_person(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Robin Ellis",
        "email": f"robin-{uuid.uuid4().hex[:8]}@northfield.example",
        "school_ids": [str(NORTHFIELD)],
        "staff_group": "teacher",
        "department": "KS2",
        "career_stage": "ect",
        "fte": 0.8,
        "start_date": "2025-09-01",
        "roles": ["staff"],
    }
    body.update(overrides)
    return body
