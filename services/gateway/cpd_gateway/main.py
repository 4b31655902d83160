"""The gateway's ASGI app: identity, the directory, routing to the services, merged docs
(``/openapi.json``) and the events document (``/asyncapi.json``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.applications import Starlette
from starlette.routing import Route

from cpd_common.app import create_service_app, metrics_endpoint
from cpd_common.auth import TokenVerifier
from cpd_common.events.admin import dead_letters_router
from cpd_common.events.catalogue import asyncapi_document
from cpd_common.input_guard import install_input_guard
from cpd_gateway import openapi, secret_box
from cpd_gateway.account.router import router as account_router
from cpd_gateway.directory import probes
from cpd_gateway.directory.router import router as directory_router
from cpd_gateway.identity import keys, passwords
from cpd_gateway.identity.router import router as identity_router
from cpd_gateway.identity.throttle import LoginThrottle
from cpd_gateway.imports.router import router as imports_router
from cpd_gateway.proxy import ProxyMiddleware, Upstreams
from cpd_gateway.ratelimit import RateLimitMiddleware
from cpd_gateway.scim.router import router as scim_router
from cpd_gateway.sessions.router import router as sessions_router
from cpd_gateway.settings import Settings
from cpd_gateway.sso.router import router as sso_router
from cpd_gateway.webhooks.router import router as webhooks_router

log = logging.getLogger("cpd.gateway")

TITLE = "CPD platform gateway"
DESCRIPTION = "Identity, the staff directory, and the single entry point to every CPD service."


def create_app(
    settings: Settings | None = None,
    *,
    upstream_connectors: dict[str, Any] | None = None,
    jwks_client: Any = None,
) -> FastAPI:
    """``upstream_connectors`` (tests) maps a service name to an aiohttp connector, e.g. one
    that calls the service's ASGI app in-process."""
    settings = settings or Settings()
    upstreams = Upstreams(settings, upstream_connectors)
    asyncapi = asyncapi_document()

    async def startup(app: FastAPI) -> None:
        # SSO client secrets and webhook signing secrets are stored encrypted: no key, no start.
        app.state.secret_box = secret_box.box_of(settings)
        passwords.configure(
            workers=settings.password_hash_workers,
            queue=settings.password_hash_queue,
            retry_after=settings.retry_after_seconds,
        )
        async with app.state.sessionmaker() as session, session.begin():
            await keys.ensure_signing_key(session, settings.signing_algorithm)
        keyring = keys.KeyRing(app.state.sessionmaker)
        app.state.keyring = keyring
        app.state.verifier = TokenVerifier(
            keyring,  # type: ignore[arg-type]
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms,
            revocations=app.state.revocations,
        )
        app.state.upstreams = upstreams
        app.state.openapi_cache = None
        await upstreams.start()
        app.state.metrics_server = None
        if settings.metrics_port:
            app.state.metrics_server = await start_metrics_listener(
                settings.metrics_host, settings.metrics_port
            )

    async def shutdown(app: FastAPI) -> None:
        # Also after a startup that failed early (no secrets key): nothing may mask why.
        server = getattr(app.state, "metrics_server", None)
        if server is not None:
            server.should_exit = True
            await app.state.metrics_task
        await upstreams.close()
        passwords.pool.close()

    async def start_metrics_listener(host: str, port: int) -> uvicorn.Server:
        """A second listener (loopback by default) that serves only /metrics: the public port
        must not show request counts and latencies per route to the world."""

        async def metrics(request: Request) -> Response:
            return await metrics_endpoint()

        metrics_app = Starlette(routes=[Route("/metrics", metrics)])
        server = uvicorn.Server(
            uvicorn.Config(metrics_app, host=host, port=port, log_level="warning", lifespan="off")
        )
        # ``_serve``: ``serve`` would take SIGINT/SIGTERM from the main server.
        app.state.metrics_task = asyncio.create_task(server._serve(), name="metrics")
        # uvicorn exposes only a flag for "listening".
        while not server.started and not app.state.metrics_task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if app.state.metrics_task.done():
            await app.state.metrics_task  # raises why it could not listen
        return server

    async def services_ready(app: FastAPI) -> str | None:
        if not settings.ready_requires_upstreams:
            return None
        behind = await upstreams.not_ready()
        if behind:
            log.warning("not ready behind the gateway: %s", ", ".join(behind))
            return "Not every service behind the gateway is ready."
        return None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await startup(app)
            yield
        finally:
            await shutdown(app)

    async def merged_openapi(request: Request) -> JSONResponse:
        cached = request.app.state.openapi_cache
        if cached is None:
            docs = await openapi.fetch_service_docs(upstreams)
            cached = openapi.merge(request.app.openapi(), docs)
            if len(docs) == len(upstreams.sessions):
                request.app.state.openapi_cache = cached
        return JSONResponse(cached)

    async def events_document(request: Request) -> JSONResponse:
        return JSONResponse(asyncapi)

    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{TITLE} - Swagger UI",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{TITLE} - ReDoc")

    # The whole platform's documents are the gateway's own routes: the merged OpenAPI
    # document (its own paths and every service's public ones), the pages that show it, and
    # the AsyncAPI document of the events.
    documents = APIRouter(include_in_schema=False)
    documents.add_api_route("/openapi.json", merged_openapi, methods=["GET"])
    documents.add_api_route("/docs", swagger_ui, methods=["GET"])
    documents.add_api_route("/docs/oauth2-redirect", swagger_ui_redirect, methods=["GET"])
    documents.add_api_route("/redoc", redoc, methods=["GET"])
    documents.add_api_route("/asyncapi.json", events_document, methods=["GET"])

    app = create_service_app(
        settings,
        title=TITLE,
        description=DESCRIPTION,
        routers=[
            documents,
            dead_letters_router(settings.service_name),
            identity_router,
            directory_router,
            sessions_router,
            account_router,
            scim_router,
            imports_router,
            sso_router,
            webhooks_router,
        ],
        lifespan=lifespan,
        readiness=[services_ready],
        public_metrics=False,
        openapi_url=None,
    )

    app.state.email_refusals = probes.refusal_counter(settings)
    app.state.login_throttle = LoginThrottle(
        per_account=settings.login_failures_per_account,
        per_account_and_address=settings.login_failures_per_account_and_address,
        per_address=settings.login_failures_per_address,
        window_seconds=settings.login_failure_window_seconds,
    )

    app.add_middleware(
        ProxyMiddleware, upstreams=upstreams, verifier_getter=lambda: app.state.verifier
    )
    # Outside the proxy: proxied requests count too (and their token is verified once).
    app.add_middleware(
        RateLimitMiddleware, settings=settings, verifier_getter=lambda: app.state.verifier
    )
    # Before the proxy too: proxied requests are checked (and their bodies limited) at the
    # edge; the input guard keeps the body limit outside itself.
    install_input_guard(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "RateLimit-Policy",
                "Idempotent-Replayed",
            ],
            max_age=600,
        )
    return app
