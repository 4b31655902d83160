"""The gateway's reverse proxy: routing, request ids, what is (not) forwarded, the edge token
check, CORS, and upstream failures mapped to 502/503/504 problems.

Besides the in-process platform (``stack``), these tests build gateways of their own on a copy
of the gateway's migrated database, in front of real TCP upstreams: an echo server that reports
what it received, a closed port, a server that never answers and one that answers garbage.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr

from cpd_common.testing.api import assert_problem
from cpd_common.testing.databases import clone_database
from cpd_common.testing.servers import free_port
from cpd_gateway.identity import keys
from cpd_gateway.main import create_app
from cpd_gateway.settings import Settings
from cpd_local.platform import service_spec
from cpd_local.stack import AUDIENCE, DEV_SECRETS_KEY, ISSUER, Stack, ensure_templates

APP_ORIGIN = "https://app.cpd.example"


async def signed_headers(app: FastAPI, **claims: Any) -> dict[str, str]:
    """A token signed by this gateway's own key for a trust admin of a made-up trust."""
    settings = app.state.settings
    token, _ = await keys.sign(
        app.state.keyring,
        {
            "sub": f"person:{uuid.uuid4()}",
            "trust_id": str(uuid.uuid4()),
            "school_ids": [],
            "roles": ["trust_admin", "staff"],
            "scope": "",
            **claims,
        },
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=settings.token_ttl_seconds,
    )
    return {"Authorization": f"Bearer {token}"}


# ---- upstreams on real sockets ---------------------------------------------------------------


@dataclass
class Echo:
    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    """An HTTP upstream that answers with what it received (method, raw path, headers, body
    size and hash); ``?status=`` sets its status and ``?size=`` the size of a bulky answer."""
    port = free_port()
    server = Echo(url=f"http://127.0.0.1:{port}")

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        record = {
            "method": request.method,
            "raw_path": request.raw_path,
            "headers": [(k.decode().lower(), v.decode()) for k, v in request.raw_headers],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        server.seen.append(record)
        size = int(request.query.get("size", "0"))
        headers = {
            "X-Upstream": "echo",
            "ETag": '"echo-1"',
            "Keep-Alive": "timeout=99",
            "Proxy-Authenticate": "Basic realm=upstream",
        }
        if size:
            chunk = b"0123456789abcdef" * 4096
            resp = web.StreamResponse(status=200, headers=headers)
            resp.content_type = "application/octet-stream"
            await resp.prepare(request)
            sent = 0
            while sent < size:
                part = chunk[: size - sent]
                await resp.write(part)
                sent += len(part)
            await resp.write_eof()
            return resp
        return web.json_response(
            record, status=int(request.query.get("status", "200")), headers=headers
        )

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield server
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def raw_server(
    on_connect: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(ConnectionError):
            await on_connect(reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    # Reads the request, then says nothing until the client hangs up.
    while await reader.read(65536):
        pass


async def answers_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    writer.write(b"THIS IS NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    writer.close()


# ---- gateways built for one test -------------------------------------------------------------


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def build_gateway(pg_server) -> AsyncIterator[GatewayFactory]:  # type: ignore[no-untyped-def]
    """Builds gateways with settings of the test's choosing, each on a fresh copy of the
    gateway's migrated database; upstreams are reached over TCP (no connector override)."""
    gateway_spec = service_spec("gateway")
    await asyncio.to_thread(ensure_templates, pg_server, [gateway_spec])
    async with contextlib.AsyncExitStack() as exit_stack:

        async def build(upstream: str, **overrides: Any) -> Gateway:
            db_name, url = await clone_database(pg_server, gateway_spec.template)
            exit_stack.push_async_callback(pg_server.adrop_database, db_name)
            settings = Settings(
                database_url=url,
                nats_url=f"nats://127.0.0.1:{free_port()}",
                jwks_url="http://gateway/.well-known/jwks.json",
                jwt_issuer=ISSUER,
                jwt_audience=AUDIENCE,
                log_json=False,
                db_pool_size=2,
                db_max_overflow=2,
                audit_url=upstream,
                lessonstudy_url=upstream,
                evaluation_url=upstream,
                secrets_key=SecretStr(DEV_SECRETS_KEY),
                **overrides,
            )
            app = create_app(settings)
            await exit_stack.enter_async_context(LifespanManager(app))
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                base_url="http://gateway",
            )
            exit_stack.push_async_callback(client.aclose)
            return Gateway(app=app, client=client, settings=settings)

        yield build


def received(echo: Echo, name: str) -> list[str]:
    return [v for k, v in echo.seen[-1]["headers"] if k == name]


# ---- routing through the in-process platform -------------------------------------------------


async def test_routed_paths_reach_their_service_with_the_callers_request_id(stack: Stack) -> None:
    headers = await signed_headers(stack.services["gateway"].app)
    for service in ("audit", "lessonstudy", "evaluation"):
        path = f"/v1/admin/{service}/dead-letters"
        listed = await stack.gateway.get(
            path, headers={**headers, "X-Request-ID": f"rid-{service}"}
        )
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"items": []}
        assert listed.headers["x-request-id"] == f"rid-{service}"

        # A 404 answered by the service itself carries the request id the gateway forwarded.
        missing = f"{path}/{uuid.uuid4()}/replay"
        resp = await stack.gateway.post(
            missing, headers={**headers, "X-Request-ID": f"rid-404-{service}"}
        )
        problem = assert_problem(resp, 404)
        assert problem["detail"] == "No such dead letter."
        assert problem["instance"] == missing
        assert problem["request_id"] == f"rid-404-{service}"
        assert resp.headers["x-request-id"] == f"rid-404-{service}"

    # The query string travels too: the service validates it.
    bad_query = await stack.gateway.get("/v1/admin/audit/dead-letters?limit=9999", headers=headers)
    assert [e["loc"] for e in assert_problem(bad_query, 422)["errors"]] == ["query.limit"]

    # An unusable request id is replaced, consistently at the gateway and the service.
    resp = await stack.gateway.post(
        f"/v1/admin/audit/dead-letters/{uuid.uuid4()}/replay",
        headers={**headers, "X-Request-ID": "not ok; <script>"},
    )
    rid = resp.headers["x-request-id"]
    assert rid != "not ok; <script>" and len(rid) == 32
    assert resp.json()["request_id"] == rid


async def test_missing_or_bad_token_on_a_routed_path_is_401_at_the_edge(stack: Stack) -> None:
    for path in ("/v1/audits", "/v1/lesson-studies", "/v1/activities", "/v1/metrics"):
        resp = await stack.gateway.get(path, headers={"X-Request-ID": "edge-1"})
        problem = assert_problem(resp, 401)
        assert resp.headers["www-authenticate"] == "Bearer"
        assert problem["request_id"] == "edge-1" and resp.headers["x-request-id"] == "edge-1"
        bad = await stack.gateway.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert_problem(bad, 401)


async def test_unknown_paths_and_wrong_methods_are_problems(stack: Stack) -> None:
    headers = await signed_headers(stack.services["gateway"].app)
    for path in ("/v1/nothing", "/v1/nothing/at/all", "/nothing", "/v2/people"):
        body = assert_problem(await stack.gateway.get(path, headers=headers), 404)
        assert body["instance"] == path
        assert_problem(await stack.gateway.get(path), 404)

    wrong = await stack.gateway.delete("/v1/schools", headers=headers)
    assert_problem(wrong, 405)
    allow = {m.strip() for m in wrong.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allow and "DELETE" not in allow, allow
    assert_problem(await stack.gateway.put("/auth/token", data={"grant_type": "password"}), 405)
    assert_problem(await stack.gateway.post("/.well-known/jwks.json"), 405)


# ---- what the proxy forwards -----------------------------------------------------------------


async def test_hop_by_hop_headers_are_not_forwarded_and_forwarding_headers_are_set(
    build_gateway: GatewayFactory, echo: Echo
) -> None:
    gw = await build_gateway(echo.url)
    headers = await signed_headers(gw.app)
    resp = await gw.client.get(
        "/v1/activities/a1?x=1",
        headers={
            **headers,
            "Connection": "keep-alive, X-Hop-Secret",
            "X-Hop-Secret": "only-for-the-next-hop",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Trailer": "X-Checksum",
            "Upgrade": "websocket",
            "Proxy-Authorization": "Basic c2VjcmV0OnNlY3JldA==",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "gopher",
            "X-Request-ID": "hop-1",
            "X-Custom": "kept",
            "Accept-Language": "en-GB",
        },
    )
    assert resp.status_code == 200, resp.text
    assert len(echo.seen) == 1
    names = {k for k, _ in echo.seen[0]["headers"]}
    for hop in ("keep-alive", "te", "trailer", "upgrade", "proxy-authorization", "x-hop-secret"):
        assert hop not in names, f"{hop} was forwarded"
    assert all("x-hop-secret" not in v.lower() for v in received(echo, "connection"))
    # End-to-end headers arrive; the token is forwarded for the service to verify again.
    assert received(echo, "authorization") == [headers["Authorization"]]
    assert received(echo, "x-custom") == ["kept"]
    assert received(echo, "accept-language") == ["en-GB"]
    assert received(echo, "x-request-id") == ["hop-1"]
    assert received(echo, "x-forwarded-for") == ["203.0.113.9, 127.0.0.1"]
    assert received(echo, "x-forwarded-proto") == ["http"]
    assert received(echo, "x-forwarded-host") == ["gateway"]
    assert echo.seen[0]["raw_path"] == "/v1/activities/a1?x=1"

    # Hop-by-hop headers of the upstream's answer stop at the gateway too.
    assert resp.headers["x-upstream"] == "echo"
    assert resp.headers["etag"] == '"echo-1"'
    assert "keep-alive" not in resp.headers
    assert "proxy-authenticate" not in resp.headers
    assert resp.headers["x-request-id"] == "hop-1"


async def test_methods_bodies_paths_and_answers_pass_through_unchanged(
    build_gateway: GatewayFactory, echo: Echo
) -> None:
    gw = await build_gateway(echo.url)
    headers = await signed_headers(gw.app)

    small = b'{"title": "Feedback", "score": 4}'
    resp = await gw.client.post(
        "/v1/activities/a1/feedback?status=201&note=a%20b%26c",
        headers={**headers, "Content-Type": "application/json"},
        content=small,
    )
    assert resp.status_code == 201
    seen = resp.json()
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/v1/activities/a1/feedback?status=201&note=a%20b%26c"
    assert seen["body_length"] == len(small)
    assert seen["body_sha256"] == hashlib.sha256(small).hexdigest()
    assert received(echo, "content-type") == ["application/json"]

    # A body bigger than the gateway buffers is streamed upstream intact (an upload type:
    # other bodies stop at 1 MiB, see tests/test_body_limits.py).
    big = bytes(range(256)) * (3 * 4096 + 7)
    resp = await gw.client.put(
        "/v1/evaluations/e1/report",
        headers={**headers, "Content-Type": "text/csv"},
        content=big,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["body_length"] == len(big)
    assert resp.json()["body_sha256"] == hashlib.sha256(big).hexdigest()

    for method in ("PATCH", "DELETE"):
        resp = await gw.client.request(method, "/v1/lesson-studies/s1", headers=headers)
        assert resp.json()["method"] == method

    # Percent-encoded paths reach the service as they were sent.
    resp = await gw.client.get("/v1/providers/a%2Fb%20c", headers=headers)
    assert resp.json()["raw_path"] == "/v1/providers/a%2Fb%20c"

    # A large answer streams back intact, and the upstream's errors pass through as they are.
    resp = await gw.client.get("/v1/dashboards/d1?size=3000000", headers=headers)
    assert resp.status_code == 200 and len(resp.content) == 3_000_000
    resp = await gw.client.get("/v1/needs/n1?status=418", headers=headers)
    assert resp.status_code == 418 and resp.json()["method"] == "GET"


async def test_no_token_means_nothing_reaches_the_upstream(
    build_gateway: GatewayFactory, echo: Echo
) -> None:
    gw = await build_gateway(echo.url)
    for headers in (
        {},
        {"Authorization": "Bearer forged.token.here"},
        {"Authorization": "Basic x"},
    ):
        resp = await gw.client.post("/v1/audits", headers=headers, json={"title": "Nope"})
        assert_problem(resp, 401)
    assert echo.seen == []


# ---- CORS ------------------------------------------------------------------------------------


async def test_cors_allows_the_configured_origins_only(
    build_gateway: GatewayFactory, echo: Echo
) -> None:
    gw = await build_gateway(echo.url, cors_origins=[APP_ORIGIN])
    preflight = {
        "Origin": APP_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }
    for path in ("/v1/people", "/v1/audits", "/auth/token"):
        resp = await gw.client.options(path, headers=preflight)
        assert resp.status_code == 200, (path, resp.text)
        assert resp.headers["access-control-allow-origin"] == APP_ORIGIN
        assert "POST" in resp.headers["access-control-allow-methods"]
        allowed = resp.headers["access-control-allow-headers"].lower()
        for name in ("authorization", "content-type", "idempotency-key"):
            assert name in allowed
        assert resp.headers["access-control-max-age"] == "600"
    assert echo.seen == [], "a preflight is answered by the gateway, never forwarded"

    evil = await gw.client.options(
        "/v1/people", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers

    # Real requests from the app's origin can read the answer and the useful headers,
    # whether the gateway answers, a service answers, or the edge refuses the token.
    headers = {**await signed_headers(gw.app), "Origin": APP_ORIGIN}
    own = await gw.client.get("/v1/schools", headers=headers)
    routed = await gw.client.get("/v1/audits", headers=headers)
    refused = await gw.client.get("/v1/audits", headers={"Origin": APP_ORIGIN})
    assert (own.status_code, routed.status_code, refused.status_code) == (200, 200, 401)
    for resp in (own, routed, refused):
        assert resp.headers["access-control-allow-origin"] == APP_ORIGIN
        exposed = resp.headers["access-control-expose-headers"].lower()
        for name in ("etag", "location", "x-request-id", "retry-after", "idempotent-replayed"):
            assert name in exposed
    foreign = await gw.client.get(
        "/v1/schools", headers={**headers, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in foreign.headers


async def test_without_cors_origins_no_cors_headers(stack: Stack) -> None:
    resp = await stack.gateway.options(
        "/v1/people",
        headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in resp.headers
    got = await stack.gateway.get("/.well-known/jwks.json", headers={"Origin": APP_ORIGIN})
    assert got.status_code == 200 and "access-control-allow-origin" not in got.headers


# ---- upstream failures -----------------------------------------------------------------------


async def test_upstream_down_is_503_with_retry_after(build_gateway: GatewayFactory) -> None:
    gw = await build_gateway(f"http://127.0.0.1:{free_port()}", retry_after_seconds=7)
    headers = await signed_headers(gw.app)
    for path in ("/v1/admin/audit/dead-letters", "/v1/lesson-studies", "/v1/metrics"):
        resp = await gw.client.get(path, headers={**headers, "X-Request-ID": "down-1"})
        problem = assert_problem(resp, 503)
        assert resp.headers["retry-after"] == "7"
        assert problem["request_id"] == "down-1" and resp.headers["x-request-id"] == "down-1"
    # The gateway's own API is unaffected.
    assert (await gw.client.get("/v1/schools", headers=headers)).status_code == 200


async def test_upstream_that_never_answers_is_504(build_gateway: GatewayFactory) -> None:
    async with raw_server(never_answers) as url:
        gw = await build_gateway(url, upstream_timeout_seconds=0.3)
        headers = await signed_headers(gw.app)
        started = time.monotonic()
        resp = await gw.client.get("/v1/audits", headers={**headers, "X-Request-ID": "slow-1"})
        elapsed = time.monotonic() - started
        problem = assert_problem(resp, 504)
        assert problem["request_id"] == "slow-1"
        assert 0.25 <= elapsed < 5, elapsed


async def test_upstream_answering_garbage_is_502(build_gateway: GatewayFactory) -> None:
    async with raw_server(answers_garbage) as url:
        gw = await build_gateway(url)
        headers = await signed_headers(gw.app)
        resp = await gw.client.get("/v1/audits", headers=headers)
        assert_problem(resp, 502)
