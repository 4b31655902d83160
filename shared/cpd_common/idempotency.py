"""``Idempotency-Key`` on creating POSTs, and the route class every service router uses.

The first response to a key is stored in the same transaction as the change it reports,
so a retry after a lost response replays it instead of creating a second resource.
Same key + same body within 24 h: the stored response. Same key + different body: 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import DateTime, Integer, LargeBinary, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from cpd_common.auth import Role, principal_from_request, require_roles
from cpd_common.errors import Conflict, Unprocessable

KEEP_FOR = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyMixin:
    """A service's ``idempotency_keys`` table: ``class IdempotencyKey(IdempotencyKeyMixin, Base)``."""

    __tablename__ = "idempotency_keys"

    principal: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


def _request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


_LOOKUP = text(
    "SELECT request_hash, status_code, headers, body FROM idempotency_keys "
    "WHERE principal = :principal AND key = :key AND created_at > now() - make_interval(secs => :keep)"
)
_STORE = text(
    "INSERT INTO idempotency_keys (principal, key, method, path, request_hash, status_code, headers, body)"
    " VALUES (:principal, :key, :method, :path, :hash, :status, CAST(:headers AS jsonb), :body)"
    " ON CONFLICT (principal, key) DO UPDATE SET method = EXCLUDED.method, path = EXCLUDED.path,"
    " request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,"
    " headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = now()"
    " WHERE idempotency_keys.created_at <= now() - make_interval(secs => :keep)"
    " RETURNING 1"
)
_REPLAY_HEADERS = ("location", "etag", "content-type")


async def prune_expired(session: AsyncSession) -> None:
    """Forgets keys older than ``KEEP_FOR`` (the worker's housekeeping, hourly)."""
    await session.execute(
        text(
            "DELETE FROM idempotency_keys WHERE created_at <= now() - make_interval(secs => :keep)"
        ),
        {"keep": KEEP_FOR.total_seconds()},
    )


class ApiRoute(APIRoute):
    """Route class for every service router: adds Idempotency-Key handling to POST."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.methods or "POST" not in self.methods:
            return handler

        async def route(request: Request) -> Response:
            key = request.headers.get("idempotency-key")
            if not key:
                return await handler(request)
            if len(key) > 200:
                raise Unprocessable(
                    "Idempotency-Key is too long (max 200 characters).",
                    errors=[{"loc": "header.Idempotency-Key", "msg": "too long"}],
                )
            principal = await principal_from_request(request)
            if principal is None:
                return await handler(request)
            body = await request.body()
            req_hash = _request_hash(request.method, request.url.path, body)
            async with request.app.state.read_sessionmaker() as lookup:
                row = (
                    await lookup.execute(
                        _LOOKUP,
                        {"principal": principal.sub, "key": key, "keep": KEEP_FOR.total_seconds()},
                    )
                ).first()
            if row is not None:
                if row.request_hash != req_hash:
                    raise Conflict(
                        "This Idempotency-Key was already used with a different request body."
                    )
                return Response(
                    content=row.body,
                    status_code=row.status_code,
                    headers={**row.headers, REPLAYED_HEADER: "true"},
                )
            response = await handler(request)
            if 200 <= response.status_code < 300:
                session: AsyncSession | None = getattr(request.state, "db_session", None)
                if session is not None:
                    # Same transaction as the change: the function-scoped session dependency
                    # commits after this returns and before the response is sent.
                    headers = {
                        k: v for k, v in response.headers.items() if k.lower() in _REPLAY_HEADERS
                    }
                    stored = await session.execute(
                        _STORE,
                        {
                            "principal": principal.sub,
                            "key": key,
                            "method": request.method,
                            "path": request.url.path,
                            "hash": req_hash,
                            "status": response.status_code,
                            "headers": json.dumps(headers),
                            "body": bytes(response.body),
                            "keep": KEEP_FOR.total_seconds(),
                        },
                    )
                    if stored.first() is None:
                        # A concurrent request with the same key committed first: undo ours.
                        raise Conflict(
                            "A request with this Idempotency-Key was just completed; retry to get its response."
                        )
            return response

        return route


def api_router(
    prefix: str = "",
    tag: str | None = None,
    *,
    roles: Sequence[Role] = (),
    dependencies: Sequence[Any] = (),
) -> APIRouter:
    """A service router: its routes are :class:`ApiRoute` (Idempotency-Key on POST), under
    ``prefix`` with one OpenAPI tag; with ``roles``, every route answers 403 to any other
    role before any lookup."""
    guard = [Depends(require_roles(*roles))] if roles else []
    return APIRouter(
        prefix=prefix,
        route_class=ApiRoute,
        tags=[tag] if tag else None,
        dependencies=[*guard, *dependencies],
    )
