"""The whole platform in-process for tests (the gateway and the services it routes to):
every service's app on a fresh copy of its
migrated database, the gateway routing to them over ASGI (no ports), real NATS for events.

Events are driven deterministically: ``await stack.settle()`` publishes every outbox and
drains every consumer until nothing moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cpd_common.db import create_engine, create_sessionmaker
from cpd_common.events.inbox import Subscription, drain, ensure_consumer
from cpd_common.events.outbox import ensure_stream, publish_pending
from cpd_common.migrations import upgrade
from cpd_common.testing.databases import clone_database, prepare_template
from cpd_common.testing.servers import EmbeddedPostgres

ISSUER = "https://cpd.test"
AUDIENCE = "cpd-api"
# The gateway's key for secrets at rest (CPD_SECRETS_KEY) on a development machine: `cpd up`,
# the tests and the benchmarks. Public, so never a deployment's (docs/operations.md).
DEV_SECRETS_KEY = "M0bSQfjuixip9r5Tl-qGdMan0XKhxexoyXJyTWBgYjg="


@dataclass
class ServiceSpec:
    """How to build one service for tests."""

    name: str
    service_dir: Path
    settings_cls: type[Any]
    create_app: Callable[..., FastAPI]
    subscriptions: Callable[[], Sequence[Subscription]] = lambda: []

    @property
    def template(self) -> str:
        return f"tpl_{self.name}"


_prepared: set[str] = set()


def ensure_templates(pg: EmbeddedPostgres, specs: Sequence[ServiceSpec]) -> None:
    """Migrate each service's template database once per test session."""
    for spec in specs:
        if spec.template in _prepared:
            continue
        prepare_template(pg, spec.template, functools.partial(upgrade, spec.service_dir))
        _prepared.add(spec.template)


class _LateASGI:
    """An ASGI app that forwards to one set later (the gateway is built after the services)."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _state_copy_per_request(app: Any) -> Any:
    """Gives each request its own copy of the lifespan state, as the ASGI spec and uvicorn do.
    asgi_lifespan hands every request the same dict, so ``request.state`` (where the verified
    principal is cached) would leak from one request into the next."""

    async def with_own_state(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan" and "state" in scope:
            scope = {**scope, "state": dict(scope["state"])}
        await app(scope, receive, send)

    return with_own_state


@dataclass
class RunningService:
    spec: ServiceSpec
    settings: Any
    app: FastAPI
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    client: httpx.AsyncClient


@dataclass
class Stack:
    services: dict[str, RunningService] = field(default_factory=dict)
    nats_url: str = ""
    databases: dict[str, str] = field(default_factory=dict)  # service -> database name
    _js: Any = None
    _nc: Any = None

    @property
    def gateway(self) -> httpx.AsyncClient:
        return self.services["gateway"].client

    def session(self, service: str) -> AsyncSession:
        return self.services[service].sessionmaker()

    async def js(self) -> Any:
        if self._nc is None or self._nc.is_closed:
            self._nc = await nats.connect(self.nats_url, max_reconnect_attempts=0)
            self._js = self._nc.jetstream()
            await ensure_stream(self._js)
        return self._js

    async def publish_pending(self) -> int:
        js = await self.js()
        total = 0
        for svc in self.services.values():
            while True:
                # A generous ack timeout: tests share a loaded machine, and a slow fsync is
                # not what they test (the outage tests set their own).
                n = await publish_pending(svc.sessionmaker, js, publish_timeout=10.0)
                total += n
                if n == 0:
                    break
        return total

    async def drain(self) -> int:
        """Handles every delivered event, then waits until each API process knows the token
        revocations they caused (a real process hears the table's NOTIFY within
        milliseconds; this makes the moment deterministic)."""
        js = await self.js()
        total = 0
        for svc in self.services.values():
            subs = list(svc.spec.subscriptions())
            if subs:
                total += await drain(svc.sessionmaker, js, subs)
        await self.sync_revocations()
        return total

    async def sync_revocations(self) -> None:
        for svc in self.services.values():
            revocations = getattr(svc.app.state, "revocations", None)
            if revocations is not None:
                await revocations.reload()

    async def settle(self, rounds: int = 10) -> None:
        """Publish every outbox and drain every consumer until nothing moves (events can
        cause events)."""
        for _ in range(rounds):
            moved = await self.publish_pending()
            moved += await self.drain()
            if moved == 0:
                return
        raise AssertionError(f"events kept flowing after {rounds} rounds")

    async def token(self, username: str, password: str) -> str:
        resp = await self.gateway.post(
            "/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    async def client_token(self, client_id: str, secret: str, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        if scope:
            data["scope"] = scope
        resp = await self.gateway.post("/auth/token", data=data)
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    async def headers_for(self, person_id: uuid.UUID | str) -> dict[str, str]:
        """Authorization headers for any person in the gateway's directory, signed by the
        gateway like a password login (tests need many respondents without passwords)."""
        from cpd_gateway.identity import keys, service

        gateway = self.services["gateway"]
        async with gateway.sessionmaker() as session:
            person = await service.person_for_token(session, uuid.UUID(str(person_id)))
        assert person is not None, f"no person {person_id} in the gateway"
        settings = gateway.settings
        token, _ = await keys.sign(
            gateway.app.state.keyring,
            service.person_claims(person),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=settings.token_ttl_seconds,
        )
        return {"Authorization": f"Bearer {token}"}

    async def auth(self, username: str, password: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(username, password)}"}


@contextlib.asynccontextmanager
async def start_stack(
    pg: EmbeddedPostgres,
    nats_url: str,
    specs: Sequence[ServiceSpec],
    *,
    gateway_kwargs: dict[str, Any] | None = None,
    gateway_settings: dict[str, Any] | None = None,
    templates: Mapping[str, str] | None = None,
    keep_databases: bool = False,
) -> AsyncIterator[Stack]:
    """Start every service in ``specs`` (one must be named ``gateway``) on fresh databases:
    copies of each service's migrated template, or of ``templates[name]`` where given (see
    :func:`seeded_templates`). ``keep_databases`` leaves the copies in place afterwards."""
    await asyncio.to_thread(ensure_templates, pg, specs)
    stack = Stack(nats_url=nats_url)
    gateway_asgi = _LateASGI()
    jwks_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_asgi), base_url="http://gateway"
    )
    async with contextlib.AsyncExitStack() as exit_stack:
        exit_stack.push_async_callback(jwks_client.aclose)
        urls: dict[str, str] = {}
        for spec in specs:
            template = (templates or {}).get(spec.name, spec.template)
            db_name, urls[spec.name] = await clone_database(pg, template)
            stack.databases[spec.name] = db_name
            if not keep_databases:
                exit_stack.push_async_callback(pg.adrop_database, db_name)
        apps: dict[str, FastAPI] = {}
        settings_by_name: dict[str, Any] = {}
        for spec in specs:
            settings = spec.settings_cls(
                database_url=urls[spec.name],
                nats_url=nats_url,
                jwks_url="http://gateway/.well-known/jwks.json",
                jwt_issuer=ISSUER,
                jwt_audience=AUDIENCE,
                log_json=False,
                db_pool_size=5,
                db_max_overflow=5,
            )
            settings_by_name[spec.name] = settings
            if spec.name == "gateway":
                continue
            apps[spec.name] = spec.create_app(settings, jwks_client=jwks_client)
        gw_spec = next(s for s in specs if s.name == "gateway")
        from aiohttp_asgi_connector import ASGIApplicationConnector

        connectors = {name: ASGIApplicationConnector(app) for name, app in apps.items()}
        gw_settings = settings_by_name["gateway"]
        if gw_settings.secrets_key is None:
            gw_settings.secrets_key = SecretStr(DEV_SECRETS_KEY)
        for key, value in (gateway_settings or {}).items():
            setattr(gw_settings, key, value)
        for name in apps:
            setattr(gw_settings, f"{name}_url", f"http://{name}")
        apps["gateway"] = gw_spec.create_app(
            gw_settings, upstream_connectors=connectors, **(gateway_kwargs or {})
        )
        gateway_asgi.app = apps["gateway"]
        for spec in specs:
            app = apps[spec.name]
            manager = await exit_stack.enter_async_context(
                LifespanManager(_state_copy_per_request(app))
            )
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app, raise_app_exceptions=False),
                base_url=f"http://{spec.name}",
            )
            exit_stack.push_async_callback(client.aclose)
            engine = create_engine(urls[spec.name], pool_size=2, max_overflow=2)
            exit_stack.push_async_callback(engine.dispose)
            stack.services[spec.name] = RunningService(
                spec=spec,
                settings=settings_by_name[spec.name],
                app=app,
                engine=engine,
                sessionmaker=create_sessionmaker(engine),
                client=client,
            )
        js = await stack.js()
        for svc in stack.services.values():
            for sub in svc.spec.subscriptions():
                await ensure_consumer(js, sub)
        try:
            yield stack
        finally:
            if stack._nc is not None:
                with contextlib.suppress(Exception):
                    await stack._nc.close()


_seeded: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}


async def seeded_templates(
    pg: EmbeddedPostgres,
    nats_url: str,
    specs: Sequence[ServiceSpec],
    label: str,
    seed: Callable[[Stack], Awaitable[None]],
) -> dict[str, str]:
    """Template databases (service -> name) holding what ``seed`` left in a stack of
    ``specs`` once every event it caused was delivered, built once per session for each
    ``label`` and set of services. A test that starts from them begins where a fresh stack
    plus ``seed`` would, without paying for the seeding and its event traffic again."""
    key = (label, tuple(sorted(spec.name for spec in specs)))
    if key not in _seeded:
        async with start_stack(pg, nats_url, specs, keep_databases=True) as stack:
            await seed(stack)
            await stack.settle()
            databases = dict(stack.databases)
        templates: dict[str, str] = {}
        suffix = uuid.uuid4().hex[:8]
        for name, database in databases.items():
            templates[name] = f"tpl_{label}_{name}_{suffix}"
            await asyncio.to_thread(
                pg.psql,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
            )
            await asyncio.to_thread(
                pg.psql, f'ALTER DATABASE "{database}" RENAME TO "{templates[name]}"'
            )
        _seeded[key] = templates
    return _seeded[key]
