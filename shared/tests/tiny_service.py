"""A tiny service of our own, built only from cpd_common, on which the shared conventions
are checked: its items table and routes (some that crash or conflict after a write), the
gateway's part (signing keys and a JWKS, served in-process), and how to start it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
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


async def count_rows(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


TEMPLATE = "tpl_conventions"


async def start_service(database_url: str, keys: KeyServer) -> AsyncIterator[Service]:
    jwks_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=keys.app()), base_url="http://jwks"
    )
    app = create_service_app(
        settings_for(database_url),
        title="Conventions test service",
        routers=[router],
        jwks_client=jwks_client,
    )
    check = create_engine(database_url, pool_size=1, max_overflow=1)
    service = Service(app=app, client=None, keys=keys, check=check)  # type: ignore[arg-type]

    async def observed(scope: Any, receive: Any, send: Any) -> None:
        """Looks at the database, from another connection, the moment the response starts."""

        async def watching_send(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["path"].startswith("/v1/items"):
                rows = await count_rows(check, "SELECT count(*) FROM items")
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
