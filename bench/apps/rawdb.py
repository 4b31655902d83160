"""The raw-asyncpg baseline: a minimal FastAPI app doing the gateway's school read and write
with hand-written SQL on an asyncpg pool (``bench.apps.rawdb:create_app``, factory).

- ``GET /v1/schools/{id}``: the same row by primary key, one round trip, no auth.
- ``GET /jwt/v1/schools/{id}``: the same, after verifying the bearer token (EdDSA, keys from
  the gateway's JWKS, fetched once at startup) as the services do: shows what auth costs.
- ``POST /v1/schools``: a school row and its ``directory.school.upserted`` outbox row in one
  transaction, the trust taken from ``BENCH_TRUST_ID`` (no auth).

Environment: ``BENCH_DSN``, ``BENCH_POOL_MAX``, ``BENCH_TRUST_ID``, ``BENCH_JWKS_URL``,
``BENCH_ISSUER``, ``BENCH_AUDIENCE``.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import uuid_utils
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SELECT = "SELECT id, trust_id, name, phase, urn, created_at, updated_at FROM schools WHERE id = $1"
INSERT_SCHOOL = (
    "INSERT INTO schools (id, trust_id, name, phase, urn) VALUES ($1, $2, $3, $4, $5) "
    "RETURNING created_at, updated_at"
)
INSERT_OUTBOX = (
    "INSERT INTO outbox (event_id, type, subject, envelope) VALUES ($1, $2, $3, $4::jsonb)"
)
EVENT_TYPE = "cpd.directory.school.upserted.v1"


def _uuid7() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)


def _school(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "trust_id": str(row["trust_id"]),
        "name": row["name"],
        "phase": row["phase"],
        "urn": row["urn"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None


def _load_keys(url: str) -> dict[str, jwt.PyJWK]:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
        data = json.loads(resp.read())
    return {k["kid"]: jwt.PyJWK(k) for k in data.get("keys", []) if k.get("kid")}


def create_app() -> FastAPI:
    dsn = os.environ["BENCH_DSN"]
    pool_max = int(os.environ.get("BENCH_POOL_MAX", "20"))
    trust_id = uuid.UUID(os.environ["BENCH_TRUST_ID"])
    jwks_url = os.environ.get("BENCH_JWKS_URL")
    issuer = os.environ.get("BENCH_ISSUER", "")
    audience = os.environ.get("BENCH_AUDIENCE", "")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_max,
            server_settings={"timezone": "UTC"},
            # asyncpg's default reset on release is a second round trip per request
            # (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN *, RESET ALL); this app changes no
            # session state, so the baseline is the true floor: one round trip per read.
            reset=_no_reset,
        )
        app.state.keys = _load_keys(jwks_url) if jwks_url else {}
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    async def read(request: Request, school_id: uuid.UUID) -> JSONResponse:
        row = await request.app.state.pool.fetchrow(SELECT, school_id)
        if row is None:
            return JSONResponse({"status": 404}, status_code=404)
        return JSONResponse(_school(row))

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/v1/schools/{school_id}")
    async def get_school(request: Request, school_id: uuid.UUID) -> JSONResponse:
        return await read(request, school_id)

    @app.get("/jwt/v1/schools/{school_id}")
    async def get_school_authenticated(request: Request, school_id: uuid.UUID) -> JSONResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            header = jwt.get_unverified_header(token)
            key = request.app.state.keys[header["kid"]]
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[header["alg"]],
                audience=audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except (jwt.PyJWTError, KeyError):
            return JSONResponse({"status": 401}, status_code=401)
        if scheme.lower() != "bearer" or not claims.get("trust_id"):
            return JSONResponse({"status": 401}, status_code=401)
        return await read(request, school_id)

    @app.post("/v1/schools", status_code=201)
    async def create_school(request: Request) -> JSONResponse:
        body = await request.json()
        school_id, event_id = _uuid7(), _uuid7()
        data = {
            "school_id": str(school_id),
            "trust_id": str(trust_id),
            "name": body["name"],
            "phase": body.get("phase"),
        }
        envelope = {
            "specversion": "1.0",
            "id": str(event_id),
            "source": "cpd/directory",
            "type": EVENT_TYPE,
            "subject": str(school_id),
            "time": datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json",
            "trustid": str(trust_id),
            "data": data,
        }
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                INSERT_SCHOOL, school_id, trust_id, body["name"], body.get("phase"), body.get("urn")
            )
            await conn.execute(
                INSERT_OUTBOX,
                event_id,
                EVENT_TYPE,
                EVENT_TYPE.rpartition(".")[0],
                json.dumps(envelope),
            )
        school = {
            "id": str(school_id),
            "trust_id": str(trust_id),
            "name": body["name"],
            "phase": body.get("phase"),
            "urn": body.get("urn"),
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
        }
        return JSONResponse(
            school, status_code=201, headers={"Location": f"/v1/schools/{school_id}"}
        )

    return app
