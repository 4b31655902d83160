"""Service app factory: lifespan (engines, token verifier), request ids, problem handlers,
``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cpd_common.auth import JwksCache, TokenVerifier
from cpd_common.body_limit import install_body_limit
from cpd_common.db import create_engine, create_sessionmaker
from cpd_common.errors import install_problem_handlers, problem_response
from cpd_common.heartbeat import seconds_since_last_beat
from cpd_common.input_guard import install_input_guard
from cpd_common.logs import request_id_var
from cpd_common.openapi_contract import install_contract_openapi
from cpd_common.revocation import RevocationCache
from cpd_common.settings import ServiceSettings

log = logging.getLogger("cpd.access")

REQUESTS = Counter(
    "cpd_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "cpd_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

_RID_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def clean_request_id(value: str | None) -> str:
    """Accept a caller's request id only if it is short and plain; otherwise make one."""
    if value and len(value) <= 128 and all(c in _RID_OK for c in value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI: sets ``X-Request-ID`` on the request state, the log context and the response,
    and records Prometheus metrics per route template."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                rid = value.decode("latin-1")
                break
        rid = clean_request_id(rid)
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        status = 500
        started = time.perf_counter()
        raw_rid = rid.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"x-request-id"]
                headers.append((b"x-request-id", raw_rid))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(self.service, scope["method"], template, str(status)).inc()
            LATENCY.labels(self.service, scope["method"], template).observe(elapsed)
            request_id_var.reset(token)


# The service's own resources, opened after the shared ones (database, token verifier) and
# closed before them.
ServiceLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
# A readiness check: why the app cannot serve, or None when it can.
Readiness = Callable[[FastAPI], Awaitable[str | None]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str = "",
    routers: Sequence[APIRouter] = (),
    jwks_client: httpx.AsyncClient | None = None,
    lifespan: ServiceLifespan | None = None,
    readiness: Sequence[Readiness] = (),
    public_metrics: bool = True,
    openapi_url: str | None = "/openapi.json",
) -> FastAPI:
    """Builds a service app: the shared lifespan, middleware, problem handlers and health
    routes around ``routers``. Nothing connects at import time; the lifespan opens the pool.
    ``openapi_url=None`` leaves ``/openapi.json`` (and ``/docs``) to the app's own routes."""

    @asynccontextmanager
    async def shared_lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        app.state.engine = engine
        app.state.read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.read_sessionmaker = async_sessionmaker(
            app.state.read_engine, class_=AsyncSession, expire_on_commit=False
        )
        jwks = JwksCache(settings.jwks_url, client=jwks_client, ttl=settings.jwks_cache_seconds)
        app.state.jwks = jwks
        revocations = RevocationCache(
            settings.database_url,
            max_token_age=settings.token_max_age_seconds,
            reload_interval=settings.revocations_reload_seconds,
            retry_after=settings.retry_after_seconds,
        )
        app.state.revocations = revocations
        app.state.verifier = TokenVerifier(
            jwks,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms,
            revocations=revocations,
        )
        try:
            await revocations.start()
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            await revocations.close()
            await jwks.aclose()
            await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=shared_lifespan,
        openapi_url=openapi_url,
    )
    app.state.settings = settings
    install_contract_openapi(app)
    install_problem_handlers(app, retry_after=settings.retry_after_seconds)
    app.add_middleware(RequestIdMiddleware, service=settings.service_name)
    install_input_guard(app)
    install_body_limit(app, settings)
    for router in routers:
        app.include_router(router)
    add_health_routes(app, settings, readiness, metrics=public_metrics)
    return app


def add_health_routes(
    app: FastAPI,
    settings: ServiceSettings,
    readiness: Sequence[Readiness] = (),
    *,
    metrics: bool = True,
) -> None:
    """``/healthz`` (the process answers), ``/readyz`` (database reachable, worker beating,
    revocations loaded, and each of ``readiness``: a check returning why not, or None) and
    ``/metrics``."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        def not_ready(detail: str) -> Response:
            return problem_response(
                503,
                detail,
                headers={"Retry-After": str(settings.retry_after_seconds)},
                request=request,
            )

        beat_age: float | None = None
        try:
            async with request.app.state.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                if settings.ready_requires_worker:
                    beat_age = await seconds_since_last_beat(conn)
        except Exception:
            return not_ready("The database is unreachable.")
        checks = {"database": "ok"}
        if settings.ready_requires_worker:
            if beat_age is None or beat_age > settings.worker_stale_seconds:
                since = "ever" if beat_age is None else f"{beat_age:.0f} s"
                return not_ready(
                    f"The worker (outbox relay and event consumers) is dead or stuck: "
                    f"no heartbeat for {since}."
                )
            checks["worker"] = "ok"
        if not request.app.state.revocations.loaded.is_set():
            return not_ready("Token revocations are not loaded yet.")
        for check in readiness:
            problem = await check(request.app)
            if problem:
                return not_ready(problem)
        return JSONResponse({"status": "ready", **checks})

    if metrics:
        app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)


async def metrics_endpoint() -> Response:
    """Prometheus text format (every metric of this process)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
