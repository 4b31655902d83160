"""Email uniqueness is global (emails are sign-in names) but is no cross-trust probe: an email
used in another trust gets exactly the answer one used in your own trust gets ("this email
cannot be used"), and a caller who keeps meeting that answer is slowed down (429)."""

from __future__ import annotations

from typing import Any

import httpx

from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD
from cpd_local.stack import ServiceSpec, Stack, start_stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]


def person(email: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Pat Example", "school_ids": [str(NORTHFIELD)]}
    if email is not None:
        body["email"] = email
    return body


def comparable(resp: httpx.Response) -> tuple[int, dict[str, Any]]:
    body = resp.json()
    return resp.status_code, {k: v for k, v in body.items() if k not in ("request_id",)}


async def test_an_email_of_another_trust_looks_like_one_of_yours(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    ours = await seeded.gateway.post("/v1/people", headers=admin, json=person(TEACHER[0]))
    theirs = await seeded.gateway.post(
        "/v1/people", headers=admin, json=person(RIVERSIDE_ADMIN[0].upper())
    )
    assert ours.status_code == 409, ours.text
    assert comparable(ours) == comparable(theirs)
    body = ours.json()
    assert body["title"] == "Email cannot be used"
    assert body["detail"] == "This email cannot be used."
    assert body["errors"] == [{"loc": "body.email", "msg": "cannot be used"}]
    # Changing someone's email to one in use answers the same words.
    created = await seeded.gateway.post(
        "/v1/people", headers=admin, json=person("pat.example@northfield.example")
    )
    assert created.status_code == 201, created.text
    url = f"/v1/people/{created.json()['id']}"
    etag = (await seeded.gateway.get(url, headers=admin)).headers["etag"]
    patched = await seeded.gateway.patch(
        url, headers={**admin, "If-Match": etag}, json={"email": RIVERSIDE_ADMIN[0]}
    )
    assert patched.status_code == 409
    assert comparable(patched)[1]["detail"] == body["detail"]
    assert patched.json()["type"] == body["type"]


async def test_repeated_refusals_are_rate_limited_per_caller(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    only = [s for s in demo_specs if s.name == "gateway"]
    async with start_stack(
        pg_server, nats_clean, only, gateway_settings={"email_refusals_per_caller": 3}
    ) as stack:
        admin = await stack.auth(*ADMIN)
        for email in (
            "teacher@northfield.example",
            RIVERSIDE_ADMIN[0],
            "leader@northfield.example",
        ):
            resp = await stack.gateway.post("/v1/people", headers=admin, json=person(email))
            assert resp.status_code == 409, resp.text
        # Now even an unused email waits: the answer cannot be used to go on probing.
        resp = await stack.gateway.post(
            "/v1/people", headers=admin, json=person("fresh.face@northfield.example")
        )
        assert resp.status_code == 429, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert int(resp.headers["retry-after"]) >= 1
        # Work that sets no email goes on; other callers are not affected.
        resp = await stack.gateway.post("/v1/people", headers=admin, json=person(None))
        assert resp.status_code == 201, resp.text
        riverside = await stack.auth(*RIVERSIDE_ADMIN)
        resp = await stack.gateway.post(
            "/v1/people", headers=riverside, json={"name": "New Face", "email": "nf@river.example"}
        )
        assert resp.status_code == 201, resp.text
