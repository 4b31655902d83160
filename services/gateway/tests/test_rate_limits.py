"""Rate limits at the gateway: a token bucket per person and per API client (an API client's
own limit when it has one), ``RateLimit-*`` headers on every answer to a signed-in caller, and
a 429 problem with ``Retry-After`` once the bucket is empty, on the gateway's own routes and on
what it proxies alike."""

from __future__ import annotations

from typing import Any

import httpx

from cpd_demo.trust import DEMO_CREDENTIALS
from cpd_local.stack import ServiceSpec, Stack

from .gateway_alone import gateway_alone

ADMIN = DEMO_CREDENTIALS["trust admin"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]


def limits(resp: httpx.Response) -> tuple[int, int, int]:
    return (
        int(resp.headers["ratelimit-limit"]),
        int(resp.headers["ratelimit-remaining"]),
        int(resp.headers["ratelimit-reset"]),
    )


def assert_limited(resp: httpx.Response, limit: int) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == 429 and body["type"].endswith("/too-many-requests")
    retry = int(resp.headers["retry-after"])
    assert 1 <= retry <= 60 // limit + 1
    assert limits(resp)[:2] == (limit, 0)


async def test_people_are_limited_per_person_with_headers(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    async with gateway_alone(
        pg_server, nats_clean, demo_specs, rate_limit_person_per_minute=5
    ) as stack:
        admin = await stack.auth(*ADMIN)
        teacher = await stack.auth(*TEACHER)
        for expected in range(4, -1, -1):
            resp = await stack.gateway.get("/v1/trusts", headers=admin)
            assert resp.status_code == 200, resp.text
            limit, remaining, reset = limits(resp)
            assert (limit, remaining) == (5, expected)
            assert 0 < reset <= 60
            assert resp.headers["ratelimit-policy"] == "5;w=60"
        assert_limited(await stack.gateway.get("/v1/trusts", headers=admin), 5)
        # The same bucket for what the gateway proxies: refused before any service is asked.
        assert_limited(await stack.gateway.get("/v1/audits", headers=admin), 5)
        # Another person has a bucket of their own.
        resp = await stack.gateway.get("/v1/trusts", headers=teacher)
        assert resp.status_code == 200 and limits(resp)[:2] == (5, 4)
        # Without a token nothing is counted or told; a bad token is still a 401.
        anonymous = await stack.gateway.get("/v1/trusts")
        assert anonymous.status_code == 401 and "ratelimit-limit" not in anonymous.headers
        forged = await stack.gateway.get("/v1/trusts", headers={"Authorization": "Bearer x.y.z"})
        assert forged.status_code == 401 and "ratelimit-limit" not in forged.headers


async def test_api_clients_get_their_own_limit_or_the_client_default(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    async with gateway_alone(
        pg_server, nats_clean, demo_specs, rate_limit_client_per_minute=7
    ) as stack:
        admin = await stack.auth(*ADMIN)
        own = await stack.gateway.post(
            "/v1/clients",
            headers=admin,
            json={"name": "Chatty HR", "roles": ["hr_integration"], "rate_limit_per_minute": 3},
        )
        assert own.status_code == 201, own.text
        assert own.json()["rate_limit_per_minute"] == 3
        plain = await stack.gateway.post(
            "/v1/clients", headers=admin, json={"name": "QA", "roles": ["qa_reader"]}
        )
        assert plain.status_code == 201 and plain.json()["rate_limit_per_minute"] is None

        async def call(client: dict[str, Any]) -> httpx.Response:
            token = await stack.client_token(client["client_id"], client["client_secret"])
            return await stack.gateway.get(
                "/v1/metrics", headers={"Authorization": f"Bearer {token}"}
            )

        token = await stack.client_token(own.json()["client_id"], own.json()["client_secret"])
        headers = {"Authorization": f"Bearer {token}"}
        for expected in (2, 1, 0):
            resp = await stack.gateway.get("/v1/trusts", headers=headers)
            assert limits(resp)[:2] == (3, expected), resp.headers
        assert_limited(await stack.gateway.get("/v1/trusts", headers=headers), 3)
        assert limits(await call(plain.json()))[0] == 7

        # A new limit applies to tokens issued after the change.
        url = f"/v1/clients/{own.json()['id']}"
        etag = (await stack.gateway.get(url, headers=admin)).headers["etag"]
        patched = await stack.gateway.patch(
            url, headers={**admin, "If-Match": etag}, json={"rate_limit_per_minute": 50}
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["rate_limit_per_minute"] == 50
        fresh = await stack.client_token(own.json()["client_id"], own.json()["client_secret"])
        resp = await stack.gateway.get("/v1/trusts", headers={"Authorization": f"Bearer {fresh}"})
        assert limits(resp)[0] == 50
        # Out of range is a 422.
        etag = (await stack.gateway.get(url, headers=admin)).headers["etag"]
        bad = await stack.gateway.patch(
            url, headers={**admin, "If-Match": etag}, json={"rate_limit_per_minute": 0}
        )
        assert bad.status_code == 422


async def test_limits_can_be_switched_off(
    pg_server: Any, nats_clean: str, demo_specs: list[ServiceSpec]
) -> None:
    async with gateway_alone(
        pg_server, nats_clean, demo_specs, rate_limits_enabled=False, rate_limit_person_per_minute=1
    ) as stack:
        admin = await stack.auth(*ADMIN)
        for _ in range(3):
            resp = await stack.gateway.get("/v1/trusts", headers=admin)
            assert resp.status_code == 200 and "ratelimit-limit" not in resp.headers


async def test_the_merged_api_document_names_the_edge_answers(seeded: Stack) -> None:
    doc = (await seeded.gateway.get("/openapi.json")).json()
    people = doc["paths"]["/v1/people"]
    assert {"413", "429"} <= set(people["post"]["responses"])
    assert "429" in people["get"]["responses"] and "413" not in people["get"]["responses"]
    # The token endpoint takes a body but no token: its 429 is the sign-in throttle's.
    token = doc["paths"]["/auth/token"]["post"]["responses"]
    assert {"413", "429"} <= set(token)
