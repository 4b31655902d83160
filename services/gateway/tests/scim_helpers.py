"""Building blocks of the SCIM tests: the demo logins and HR client, the SCIM schema URNs,
SCIM error checks, a new user's body, and creating, searching and reading events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, PEOPLE_BY_KEY
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]


RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]


HR = DEMO_CREDENTIALS["HR API client"]


QA = DEMO_CREDENTIALS["QA API client"]


SCIM_JSON = "application/scim+json"


CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


CPD = "urn:ietf:params:scim:schemas:extension:cpd:2.0:User"


PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


async def hr_headers(stack: Stack, client: tuple[str, str] = HR) -> dict[str, str]:
    token = await stack.client_token(*client)
    return {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}


def assert_scim_error(resp: httpx.Response, status: int, scim_type: str | None = None) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(SCIM_JSON), resp.headers
    body = resp.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type is None:
        assert "scimType" not in body, body
    else:
        assert body.get("scimType") == scim_type, body
    assert isinstance(body["detail"], str) and body["detail"]
    return str(body["detail"])


def new_user(**overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body: dict[str, Any] = {
        "schemas": [CORE_USER, ENTERPRISE, CPD],
        "userName": f"jo.bloggs.{tag}",
        "externalId": f"HR-{tag}",
        "name": {"givenName": "Jo", "familyName": f"Bloggs{tag}"},
        "emails": [
            {"value": f"home-{tag}@mail.example", "type": "home"},
            {"value": f"jo.{tag}@northfield.example", "type": "work", "primary": True},
        ],
        "active": True,
        ENTERPRISE: {
            "employeeNumber": f"E{tag}",
            "department": "Maths",
            "manager": {"value": str(PEOPLE_BY_KEY["n-deputy"].id)},
        },
        CPD: {
            "schools": [{"value": str(NORTHFIELD)}],
            "staffGroup": "teacher",
            "careerStage": "ect",
            "fte": "0.8",
            "startDate": "2025-09-01T00:00:00Z",
        },
    }
    body.update(overrides)
    return body


async def upserted(stack: Stack, person_id: str) -> list[dict[str, Any]]:
    return await events_of(stack, catalogue.PersonUpserted.event_type, person_id)


async def events_of(stack: Stack, event_type: str, subject: str) -> list[dict[str, Any]]:
    async with stack.session("gateway") as session:
        rows = await session.execute(
            text(
                "SELECT envelope FROM outbox WHERE type = :type AND envelope->>'subject' = :subject"
                " ORDER BY seq"
            ),
            {"type": event_type, "subject": subject},
        )
        return [r.envelope for r in rows]


async def create(stack: Stack, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    resp = await stack.gateway.post("/scim/v2/Users", headers=headers, json=body)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith(SCIM_JSON)
    created = resp.json()
    assert resp.headers["location"] == created["meta"]["location"]
    assert resp.headers["location"].endswith(f"/scim/v2/Users/{created['id']}")
    assert resp.headers["etag"] == created["meta"]["version"]
    return created


async def search(stack: Stack, headers: dict[str, str], scim_filter: str, **params: Any) -> Any:
    resp = await stack.gateway.get(
        "/scim/v2/Users", headers=headers, params={"filter": scim_filter, **params}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    return body
