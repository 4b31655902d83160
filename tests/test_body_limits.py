"""Request body limits: every route of every service, and the gateway (its own routes and what
it proxies), answers 413 problem+json to a body over the limit (1 MiB, 20 MiB for CSV uploads),
whether the size is declared up front or only found while reading a chunked body, before the
body is parsed and before the caller's token is checked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cpd_common.body_limit import BodyLimitMiddleware
from cpd_demo.trust import DEMO_CREDENTIALS
from cpd_local.stack import Stack

MIB = 1 << 20
ADMIN = DEMO_CREDENTIALS["trust admin"]


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    return ("audit",)


def assert_413(resp: httpx.Response) -> None:
    assert resp.status_code == 413, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == 413
    assert "larger than" in body["detail"]
    assert resp.headers["x-request-id"]


def big_json(size: int) -> bytes:
    """Valid JSON of about ``size`` bytes (a 422 if it were parsed: unknown field)."""
    return json.dumps({"title": "x", "padding": "a" * size}).encode()


async def chunked(body: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(body), chunk):
        yield body[i : i + chunk]


async def test_a_declared_oversize_body_is_refused_before_auth_and_parsing(stack: Stack) -> None:
    body = big_json(MIB + 10)
    headers = {"content-type": "application/json"}
    # The gateway's own route, a proxied route and the service directly; no token at all.
    for client, path in (
        (stack.gateway, "/v1/people"),
        (stack.gateway, "/v1/audits"),
        (stack.services["audit"].client, "/v1/audits"),
    ):
        assert_413(await client.post(path, content=body, headers=headers))
        # Not even valid JSON: still 413, never a parse error.
        assert_413(await client.post(path, content=b"{" * (MIB + 1), headers=headers))
    # The token endpoint's form too.
    assert_413(
        await stack.gateway.post(
            "/auth/token",
            content=b"grant_type=password&username=" + b"a" * MIB,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    )


async def test_an_undeclared_oversize_body_is_refused_while_it_is_read(demo: Stack) -> None:
    stack = demo
    headers = await stack.auth(*ADMIN)
    headers["content-type"] = "application/json"
    body = big_json(2 * MIB)
    for client, path in (
        (stack.gateway, "/v1/people"),
        (stack.gateway, "/v1/audits"),
        (stack.services["audit"].client, "/v1/audits"),
    ):
        resp = await client.post(path, content=chunked(body), headers=headers)
        assert "content-length" not in resp.request.headers
        assert_413(resp)
        # Without a token as well (the limit comes first).
        resp = await client.post(
            path, content=chunked(body), headers={"content-type": "application/json"}
        )
        assert_413(resp)


async def test_csv_uploads_get_the_larger_limit_even_through_the_proxy(demo: Stack) -> None:
    stack = demo
    headers = {**(await stack.auth(*ADMIN)), "content-type": "text/csv"}
    row = b"external_id,name,email\n" + b"e1,Jo Bloggs,jo@example.org\n" * 20000
    five_mib = row * (5 * MIB // len(row) + 1)
    # Over the JSON limit, under the upload limit: the route answers (no such CSV route
    # there, so a 4xx of its own), not the body limit.
    resp = await stack.gateway.post("/v1/audits", content=five_mib, headers=headers)
    assert resp.status_code != 413 and resp.status_code < 500, resp.text[:300]
    resp = await stack.services["audit"].client.post(
        "/v1/audits", content=five_mib, headers=headers
    )
    assert resp.status_code != 413 and resp.status_code < 500, resp.text[:300]
    # Over the upload limit: declared, and streamed through the proxy past its 1 MiB buffer.
    huge = five_mib * 5
    assert len(huge) > 20 * MIB
    assert_413(await stack.gateway.post("/v1/audits", content=huge, headers=headers))
    resp = await stack.gateway.post("/v1/audits", content=chunked(huge, MIB), headers=headers)
    assert_413(resp)
    assert_413(
        await stack.services["audit"].client.post(
            "/v1/audits", content=chunked(huge, MIB), headers=headers
        )
    )


async def test_bodies_within_the_limit_still_work(demo: Stack) -> None:
    stack = demo
    headers = await stack.auth(*ADMIN)
    resp = await stack.gateway.post(
        "/v1/schools", json={"name": "Limits Primary", "phase": "primary"}, headers=headers
    )
    assert resp.status_code == 201, resp.text
    # Chunked and small: read in full and handled as usual.
    resp = await stack.gateway.post(
        "/v1/schools",
        content=chunked(json.dumps({"name": "Chunked Primary"}).encode(), 4),
        headers={**headers, "content-type": "application/json"},
    )
    assert resp.status_code == 201, resp.text


async def test_limits_are_settings_of_every_service(stack: Stack) -> None:
    for name, svc in stack.services.items():
        limits = [m for m in svc.app.user_middleware if m.cls is BodyLimitMiddleware]
        assert len(limits) == 1, name
        # Outermost but for CORS: nothing (input guard, proxy, auth) reads the body before it.
        classes = [m.cls.__name__ for m in svc.app.user_middleware]
        assert classes[: classes.index("BodyLimitMiddleware")] in ([], ["CORSMiddleware"]), (
            name,
            classes,
        )
        kw: dict[str, Any] = limits[0].kwargs
        assert kw["max_body_bytes"] == svc.settings.max_body_bytes == MIB
        assert kw["max_upload_bytes"] == svc.settings.max_upload_bytes == 20 * MIB
