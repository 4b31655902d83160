"""The conventions every service gets from ``cpd_common``, checked on a tiny service of our
own: problem+json for every error (validation, unknown fields, 404, 405, 500 without a stack
trace, 503 with Retry-After when the database is down), one transaction per request committed
before the response, ETag / If-Match, pagination, Idempotency-Key, token verification against a
JWKS (refreshed on an unknown kid), request ids, and /healthz, /readyz, /metrics.

The service runs on a real PostgreSQL database; its JWKS is served by a small in-process ASGI
app (the gateway's role), reached over ``httpx.ASGITransport``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import Field
from sqlalchemy import Integer, String, UniqueConstraint, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from starlette.responses import JSONResponse
from starlette.routing import Route

from cpd_common.app import create_service_app
from cpd_common.auth import PrincipalDep, require_roles
from cpd_common.db import (
    IdMixin,
    SessionDep,
    TenantMixin,
    TimestampMixin,
    create_engine,
    new_metadata,
)
from cpd_common.errors import Conflict, NotFound
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import ApiRoute, IdempotencyKeyMixin
from cpd_common.pagination import Page, PageDep, paginate
from cpd_common.revocation import TokenRevocationMixin
from cpd_common.schemas import InputModel, OutputModel
from cpd_common.settings import ServiceSettings
from cpd_common.testing.databases import unique_name
from cpd_common.testing.servers import free_port

ISSUER = "https://issuer.conventions.test"
AUDIENCE = "conventions-api"
RETRY_AFTER = 3

# ---- the tiny service ------------------------------------------------------------------------


class Base(DeclarativeBase):
    metadata = new_metadata()


class Item(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "items"

    name: Mapped[str] = mapped_column(String(50))
    qty: Mapped[int] = mapped_column(Integer)
    # Checked at COMMIT, not at INSERT: a duplicate only fails when the request commits.
    code: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        UniqueConstraint("code", name="uq_items_code", deferrable=True, initially="DEFERRED"),
    )


class IdempotencyKey(IdempotencyKeyMixin, Base):
    __tablename__ = "idempotency_keys"


class TokenRevocation(TokenRevocationMixin, Base):
    pass


class ItemCreate(InputModel):
    name: str = Field(min_length=1, max_length=50)
    qty: int = Field(ge=0)
    code: str | None = Field(default=None, max_length=20)


class ItemUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    qty: int | None = Field(default=None, ge=0)


class ItemRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    name: str
    qty: int
    code: str | None
    updated_at: Any


router = APIRouter(prefix="/v1", route_class=ApiRoute)


async def _item(session: Any, item_id: uuid.UUID, trust_id: uuid.UUID) -> Item:
    item = await session.get(Item, item_id)
    if item is None or item.trust_id != trust_id:
        raise NotFound("No such item.")
    return item


@router.post("/items", status_code=201)
async def create_item(data: ItemCreate, session: SessionDep, principal: PrincipalDep) -> Response:
    item = Item(trust_id=principal.trust_id, **data.model_dump())
    session.add(item)
    await session.flush()
    return resource_response(
        ItemRead.model_validate(item), status_code=201, location=f"/v1/items/{item.id}"
    )


@router.get("/items")
async def list_items(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Any:
    rows, cursor = await paginate(
        session, select(Item).where(Item.trust_id == principal.trust_id), Item.id, page
    )
    return Page[ItemRead](items=[ItemRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/items/{item_id}")
async def get_item(item_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    return resource_response(
        ItemRead.model_validate(await _item(session, item_id, principal.trust_id))
    )


@router.patch("/items/{item_id}")
async def update_item(
    item_id: uuid.UUID,
    data: ItemUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    item = await _item(session, item_id, principal.trust_id)
    require_if_match(request, ItemRead.model_validate(item))
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(item, key, value)
    await session.flush()
    return resource_response(ItemRead.model_validate(item))


@router.post("/items/crash-after-write", status_code=201)
async def crash_after_write(data: ItemCreate, session: SessionDep, principal: PrincipalDep) -> Any:
    session.add(Item(trust_id=principal.trust_id, **data.model_dump()))
    await session.flush()
    raise RuntimeError("secret-internal-detail in /srv/cpd/app.py line 42")


@router.post("/items/conflict-after-write", status_code=201)
async def conflict_after_write(
    data: ItemCreate, session: SessionDep, principal: PrincipalDep
) -> Any:
    session.add(Item(trust_id=principal.trust_id, **data.model_dump()))
    await session.flush()
    raise Conflict("Changed my mind.")


@router.get("/boom")
async def boom() -> Any:
    raise RuntimeError("secret-internal-detail in /srv/cpd/app.py line 7")


@router.get("/admin-only", dependencies=[Depends(require_roles("trust_admin"))])
async def admin_only() -> Any:
    return {"ok": True}


@router.get("/db-check")
async def db_check(session: SessionDep) -> Any:
    return {"one": await session.scalar(text("SELECT 1"))}


# ---- the gateway's part: keys and a JWKS -----------------------------------------------------


@dataclass
class KeyServer:
    """Signing keys and the JWKS document serving their public halves."""

    keys: dict[str, ed25519.Ed25519PrivateKey] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    fetches: int = 0

    def add_key(self, kid: str | None = None, *, publish: bool = True) -> str:
        kid = kid or uuid.uuid4().hex
        self.keys[kid] = ed25519.Ed25519PrivateKey.generate()
        if publish:
            self.published.append(kid)
        return kid

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid in self.published:
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.keys[kid].public_key()))
            jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
            out.append(jwk)
        return {"keys": out}

    def app(self) -> Any:
        async def serve(request: Any) -> JSONResponse:
            self.fetches += 1
            return JSONResponse(self.jwks())

        from starlette.applications import Starlette

        return Starlette(routes=[Route("/.well-known/jwks.json", serve)])

    def token(self, kid: str | None = None, **claims: Any) -> str:
        kid = kid or self.published[0]
        now = int(time.time())
        payload = {
            "sub": f"person:{uuid.uuid4()}",
            "trust_id": str(uuid.uuid4()),
            "school_ids": [],
            "roles": ["trust_admin"],
            "scope": "",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self.keys[kid], algorithm="EdDSA", headers={"kid": kid})

    def headers(self, kid: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(kid, **claims)}"}


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    keys: KeyServer
    check: AsyncEngine  # another connection pool, to see what is committed
    at_response_start: list[tuple[int, int]] = field(default_factory=list)


def settings_for(database_url: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="conventions",
        database_url=database_url,
        jwks_url="http://jwks/.well-known/jwks.json",
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_algorithms=["EdDSA"],
        log_json=False,
        db_pool_size=2,
        db_max_overflow=2,
        retry_after_seconds=RETRY_AFTER,
        ready_requires_worker=False,  # this tiny service has no worker
    )


async def _count(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


TEMPLATE = "tpl_conventions"


@pytest.fixture(scope="module")
async def template(pg_server) -> str:  # type: ignore[no-untyped-def]
    """The tiny service's schema, built once; each test gets a file-level copy of it (the
    template goes with the session's PostgreSQL cluster)."""
    await pg_server.adrop_database(TEMPLATE)
    url = await pg_server.acreate_database(TEMPLATE)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()
    return TEMPLATE


@pytest.fixture
async def database(pg_server, template: str) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    name = unique_name("conventions")
    url = await pg_server.acreate_database(name, template=template)
    try:
        yield url
    finally:
        await pg_server.adrop_database(name)


@pytest.fixture
async def keys() -> KeyServer:
    server = KeyServer()
    server.add_key()
    return server


async def _start(database_url: str, keys: KeyServer) -> AsyncIterator[Service]:
    jwks_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=keys.app()), base_url="http://jwks"
    )
    app = create_service_app(
        settings_for(database_url),
        title="Conventions test service",
        routers=[router],
        jwks_client=jwks_client,
        dead_letters=False,
    )
    check = create_engine(database_url, pool_size=1, max_overflow=1)
    service = Service(app=app, client=None, keys=keys, check=check)  # type: ignore[arg-type]

    async def observed(scope: Any, receive: Any, send: Any) -> None:
        """Looks at the database, from another connection, the moment the response starts."""

        async def watching_send(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["path"].startswith("/v1/items"):
                rows = await _count(check, "SELECT count(*) FROM items")
                service.at_response_start.append((message["status"], rows))
            await send(message)

        await app(scope, receive, watching_send if scope["type"] == "http" else send)

    try:
        async with LifespanManager(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=observed, raise_app_exceptions=False),
                base_url="http://service",
            ) as client:
                service.client = client
                yield service
    finally:
        await check.dispose()
        await jwks_client.aclose()


@pytest.fixture
async def svc(database: str, keys: KeyServer) -> AsyncIterator[Service]:
    async for service in _start(database, keys):
        yield service


@pytest.fixture
async def down(keys: KeyServer) -> AsyncIterator[Service]:
    """The same service with its database on a port where nothing listens."""
    url = f"postgresql+asyncpg://cpd@127.0.0.1:{free_port()}/nowhere"
    jwks_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=keys.app()), base_url="http://jwks"
    )
    app = create_service_app(
        settings_for(url),
        title="Conventions test service (database down)",
        routers=[router],
        jwks_client=jwks_client,
        dead_letters=False,
    )
    try:
        async with LifespanManager(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                base_url="http://service",
            ) as client:
                yield Service(app=app, client=client, keys=keys, check=None)  # type: ignore[arg-type]
    finally:
        await jwks_client.aclose()


def assert_problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["type"].startswith("https://")
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


# ---- errors ----------------------------------------------------------------------------------


async def test_unhandled_exception_is_500_problem_without_internals(svc: Service) -> None:
    resp = await svc.client.get(
        "/v1/boom", headers={**svc.keys.headers(), "X-Request-ID": "rid-500-test"}
    )
    body = assert_problem(resp, 500)
    assert body["request_id"] == "rid-500-test"
    assert resp.headers["x-request-id"] == "rid-500-test"
    assert body["instance"] == "/v1/boom"
    for leak in ("Traceback", "RuntimeError", "secret-internal-detail", "app.py", 'File "'):
        assert leak not in resp.text, leak


async def test_crash_after_a_write_rolls_it_back(svc: Service) -> None:
    headers = svc.keys.headers()
    crashed = await svc.client.post(
        "/v1/items/crash-after-write", headers=headers, json={"name": "ghost", "qty": 1}
    )
    assert "secret-internal-detail" not in assert_problem(crashed, 500)["detail"]
    refused = await svc.client.post(
        "/v1/items/conflict-after-write", headers=headers, json={"name": "ghost", "qty": 1}
    )
    assert assert_problem(refused, 409)["detail"] == "Changed my mind."
    assert await _count(svc.check, "SELECT count(*) FROM items") == 0


async def test_database_unreachable_is_503_with_retry_after(down: Service) -> None:
    headers = {**down.keys.headers(), "X-Request-ID": "rid-db-down"}
    for method, path, kwargs in (
        ("GET", "/v1/db-check", {}),
        ("GET", "/v1/items", {}),
        ("GET", f"/v1/items/{uuid.uuid4()}", {}),
        ("POST", "/v1/items", {"json": {"name": "x", "qty": 1}}),
        (
            "POST",
            "/v1/items",
            {"json": {"name": "x", "qty": 1}, "headers": {"Idempotency-Key": "while-down"}},
        ),
    ):
        extra = kwargs.pop("headers", {})
        resp = await down.client.request(method, path, headers={**headers, **extra}, **kwargs)
        body = assert_problem(resp, 503)
        assert resp.headers["retry-after"] == str(RETRY_AFTER), (method, path)
        assert body["request_id"] == "rid-db-down"
        assert "Traceback" not in resp.text

    ready = await down.client.get("/readyz")
    assert_problem(ready, 503)
    assert ready.headers["retry-after"] == str(RETRY_AFTER)
    healthy = await down.client.get("/healthz")
    assert healthy.status_code == 200 and healthy.json() == {"status": "ok"}


async def test_validation_errors_are_422_problems_with_an_errors_list(svc: Service) -> None:
    headers = svc.keys.headers()
    resp = await svc.client.post("/v1/items", headers=headers, json={"qty": -1})
    body = assert_problem(resp, 422)
    errors = {e["loc"]: e["msg"] for e in body["errors"]}
    assert set(errors) == {"body.name", "body.qty"}
    assert errors["body.name"] == "Field required"
    assert "greater than or equal to 0" in errors["body.qty"]
    assert "body.name" in body["detail"] and "body.qty" in body["detail"]

    unknown = await svc.client.post(
        "/v1/items", headers=headers, json={"name": "pen", "qty": 1, "colour": "red"}
    )
    assert assert_problem(unknown, 422)["errors"] == [
        {"loc": "body.colour", "msg": "unknown field"}
    ]

    for resp, loc in (
        (await svc.client.get("/v1/items/not-a-uuid", headers=headers), "path.item_id"),
        (await svc.client.get("/v1/items?limit=0", headers=headers), "query.limit"),
        (await svc.client.get("/v1/items?limit=201", headers=headers), "query.limit"),
        (await svc.client.get("/v1/items?cursor=%%%", headers=headers), "query.cursor"),
    ):
        assert [e["loc"] for e in assert_problem(resp, 422)["errors"]] == [loc]

    not_json = await svc.client.post(
        "/v1/items",
        headers={**headers, "Content-Type": "application/json"},
        content=b'{"name": "pen", ',
    )
    assert assert_problem(not_json, 422)["errors"]
    wrong_type = await svc.client.post("/v1/items", headers=headers, json=["a", "list"])
    assert assert_problem(wrong_type, 422)["errors"]
    nul = await svc.client.post("/v1/items", headers=headers, json={"name": "pe\u0000n", "qty": 1})
    assert "NUL" in assert_problem(nul, 422)["errors"][0]["msg"]
    assert await _count(svc.check, "SELECT count(*) FROM items") == 0


async def test_unknown_route_is_404_and_wrong_method_405_problems(svc: Service) -> None:
    for path in ("/v1/nope", "/nope", "/v1/items/x/y/z"):
        body = assert_problem(await svc.client.get(path, headers={"X-Request-ID": "rid-404"}), 404)
        assert body["instance"] == path and body["request_id"] == "rid-404"
    wrong = await svc.client.delete("/v1/items")
    assert_problem(wrong, 405)
    allow = {m.strip() for m in wrong.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allow and "DELETE" not in allow
    wrong_item = await svc.client.put(f"/v1/items/{uuid.uuid4()}")
    assert_problem(wrong_item, 405)
    assert {"GET", "PATCH"} <= {m.strip() for m in wrong_item.headers["allow"].split(",")}


async def test_missing_or_bad_tokens_are_401_and_missing_roles_403(svc: Service) -> None:
    resp = await svc.client.get("/v1/items")
    assert_problem(resp, 401)
    assert resp.headers["www-authenticate"] == "Bearer"
    for token in (
        "garbage",
        svc.keys.token(aud="another-api"),
        svc.keys.token(iss="https://elsewhere.test"),
        svc.keys.token(exp=int(time.time()) - 60, iat=int(time.time()) - 1000),
    ):
        assert_problem(
            await svc.client.get("/v1/items", headers={"Authorization": f"Bearer {token}"}), 401
        )
    assert_problem(
        await svc.client.get("/v1/admin-only", headers=svc.keys.headers(roles=["staff"])), 403
    )
    ok = await svc.client.get("/v1/admin-only", headers=svc.keys.headers())
    assert ok.status_code == 200


async def test_a_new_key_is_trusted_at_once_but_made_up_kids_do_not_hammer_the_jwks(
    svc: Service,
) -> None:
    keys = svc.keys
    assert (await svc.client.get("/v1/items", headers=keys.headers())).status_code == 200
    assert keys.fetches == 1
    for _ in range(3):
        assert (await svc.client.get("/v1/items", headers=keys.headers())).status_code == 200
    assert keys.fetches == 1, "the JWKS is cached"

    # The gateway rotates: a token signed with the new key works right away.
    new_kid = keys.add_key()
    resp = await svc.client.get("/v1/items", headers=keys.headers(new_kid))
    assert resp.status_code == 200, resp.text
    assert keys.fetches == 2

    # Tokens naming keys nobody published cost one more fetch, not one each (a second only
    # if the refresh interval passed meanwhile).
    for _ in range(10):
        made_up = keys.add_key(publish=False)
        assert_problem(await svc.client.get("/v1/items", headers=keys.headers(made_up)), 401)
    assert 3 <= keys.fetches <= 4
    # Known keys are unaffected meanwhile.
    assert (await svc.client.get("/v1/items", headers=keys.headers(new_kid))).status_code == 200


# ---- one transaction per request, committed before the response -----------------------------


async def test_write_is_committed_before_the_response_starts(svc: Service) -> None:
    resp = await svc.client.post(
        "/v1/items", headers=svc.keys.headers(), json={"name": "pen", "qty": 3}
    )
    assert resp.status_code == 201, resp.text
    # Another connection saw the row at the moment the 201 started, not after.
    assert svc.at_response_start == [(201, 1)]
    item_id = uuid.UUID(resp.json()["id"])
    assert await _count(svc.check, "SELECT count(*) FROM items WHERE id = :id", id=item_id) == 1


async def test_a_commit_that_fails_answers_an_error_and_stores_nothing(svc: Service) -> None:
    headers = svc.keys.headers()
    first = await svc.client.post(
        "/v1/items", headers=headers, json={"name": "pen", "qty": 1, "code": "DUP"}
    )
    assert first.status_code == 201, first.text

    # The duplicate passes INSERT and flush; the deferred constraint fails at COMMIT.
    for key in (None, "dup-key", "dup-key"):
        extra = {"Idempotency-Key": key} if key else {}
        again = await svc.client.post(
            "/v1/items",
            headers={**headers, **extra},
            json={"name": "pencil", "qty": 2, "code": "DUP"},
        )
        # A unique violation is the client's conflict, even when it surfaces at COMMIT.
        assert again.status_code == 409, again.text
        assert_problem(again, 409)
        assert "idempotent-replayed" not in again.headers
    assert svc.at_response_start[0] == (201, 1)
    assert all(status >= 400 and rows == 1 for status, rows in svc.at_response_start[1:])
    assert await _count(svc.check, "SELECT count(*) FROM items WHERE code = 'DUP'") == 1
    assert await _count(svc.check, "SELECT count(*) FROM items WHERE name = 'pencil'") == 0
    assert await _count(svc.check, "SELECT count(*) FROM idempotency_keys") == 0


# ---- ETag, If-Match, pagination, Idempotency-Key ---------------------------------------------


async def test_etag_and_if_match(svc: Service) -> None:
    headers = svc.keys.headers()
    created = await svc.client.post("/v1/items", headers=headers, json={"name": "pen", "qty": 1})
    url = created.headers["location"]
    got = await svc.client.get(url, headers=headers)
    etag = got.headers["etag"]
    assert etag == created.headers["etag"] and re.fullmatch(r'"[0-9a-f]{24}"', etag)
    assert (await svc.client.get(url, headers=headers)).headers["etag"] == etag, "stable"

    assert_problem(await svc.client.patch(url, headers=headers, json={"qty": 2}), 428)
    assert_problem(
        await svc.client.patch(url, headers={**headers, "If-Match": '"stale"'}, json={"qty": 2}),
        412,
    )
    done = await svc.client.patch(url, headers={**headers, "If-Match": etag}, json={"qty": 2})
    assert done.status_code == 200 and done.json()["qty"] == 2
    assert done.headers["etag"] != etag
    assert (await svc.client.get(url, headers=headers)).headers["etag"] == done.headers["etag"]
    weak = await svc.client.patch(
        url, headers={**headers, "If-Match": f'"other", W/{done.headers["etag"]}'}, json={"qty": 3}
    )
    assert weak.status_code == 200, weak.text
    # Another tenant cannot see it, with or without preconditions.
    other = svc.keys.headers()
    assert_problem(await svc.client.get(url, headers=other), 404)
    assert_problem(
        await svc.client.patch(url, headers={**other, "If-Match": "*"}, json={"qty": 9}), 404
    )


async def test_cursor_pagination(svc: Service) -> None:
    trust = str(uuid.uuid4())
    headers = svc.keys.headers(trust_id=trust)
    async with svc.check.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO items (id, trust_id, name, qty, created_at, updated_at) "
                "SELECT gen_random_uuid(), :trust, 'item ' || n, n, now(), now() "
                "FROM generate_series(1, 57) AS n"
            ),
            {"trust": trust},
        )
        await conn.execute(
            text(
                "INSERT INTO items (id, trust_id, name, qty, created_at, updated_at) "
                "VALUES (gen_random_uuid(), gen_random_uuid(), 'other tenant', 1, now(), now())"
            )
        )
    first = (await svc.client.get("/v1/items", headers=headers)).json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await svc.client.get("/v1/items", headers=headers, params=params)).json()
        assert len(page["items"]) <= 7
        seen.extend(i["id"] for i in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 57
    assert seen == sorted(seen, key=uuid.UUID)
    everything = (await svc.client.get("/v1/items", headers=headers, params={"limit": 200})).json()
    assert [i["id"] for i in everything["items"]] == seen and everything["next_cursor"] is None


async def test_idempotency_key(svc: Service) -> None:
    headers = {**svc.keys.headers(sub="person:" + str(uuid.uuid4())), "Idempotency-Key": "k-1"}
    body = {"name": "pen", "qty": 1}
    first = await svc.client.post("/v1/items", headers=headers, json=body)
    replay = await svc.client.post("/v1/items", headers=headers, json=body)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["etag"] == first.headers["etag"]
    assert await _count(svc.check, "SELECT count(*) FROM items") == 1

    changed = await svc.client.post("/v1/items", headers=headers, json={**body, "qty": 2})
    assert_problem(changed, 409)
    # The same key from somebody else is their own key.
    someone = {**svc.keys.headers(), "Idempotency-Key": "k-1"}
    theirs = await svc.client.post("/v1/items", headers=someone, json=body)
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    too_long = await svc.client.post(
        "/v1/items", headers={**headers, "Idempotency-Key": "k" * 201}, json=body
    )
    assert_problem(too_long, 422)
    assert await _count(svc.check, "SELECT count(*) FROM items") == 2
    stored = await _count(svc.check, "SELECT count(*) FROM idempotency_keys WHERE key = 'k-1'")
    assert stored == 2


# ---- request ids, health and metrics ---------------------------------------------------------


async def test_request_ids(svc: Service) -> None:
    ok = await svc.client.get("/healthz", headers={"X-Request-ID": "abc-123_x.y:z"})
    assert ok.headers["x-request-id"] == "abc-123_x.y:z"
    for bad in ("has spaces", "x" * 129, "semi;colon"):
        resp = await svc.client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["x-request-id"]), bad
    generated = {(await svc.client.get("/healthz")).headers["x-request-id"] for _ in range(3)}
    assert len(generated) == 3


async def test_health_readiness_and_metrics(svc: Service) -> None:
    assert (await svc.client.get("/healthz")).json() == {"status": "ok"}
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"

    headers = svc.keys.headers()
    item = await svc.client.post("/v1/items", headers=headers, json={"name": "pen", "qty": 1})
    await svc.client.get(item.headers["location"], headers=headers)
    await svc.client.get("/v1/does-not-exist")
    metrics = await svc.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = [
        line
        for line in metrics.text.splitlines()
        if line.startswith("cpd_http_requests_total{") and 'service="conventions"' in line
    ]
    assert any('route="/v1/items/{item_id}"' in line and 'status="200"' in line for line in lines)
    assert any('route="/v1/items"' in line and 'status="201"' in line for line in lines)
    assert any('route="unmatched"' in line and 'status="404"' in line for line in lines)
    assert item.json()["id"] not in metrics.text, "ids must not become metric labels"
    assert "cpd_http_request_seconds_bucket" in metrics.text


async def test_service_app_lists_no_health_routes_in_its_schema(svc: Service) -> None:
    doc = (await svc.client.get("/openapi.json")).json()
    assert "/v1/items" in doc["paths"]
    assert not {"/healthz", "/readyz", "/metrics"} & set(doc["paths"])
