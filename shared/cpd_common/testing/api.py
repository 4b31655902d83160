"""The tests' API client: calls the gateway as a person, as a front end would, and checks
status codes; and a look into a service's outbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def assert_problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    """Checks an RFC 9457 problem answer (status, media type, type/title/detail, no traceback)
    and returns its body."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in resp.text
    return body


class Stack(Protocol):
    """What the client needs of a running platform: the gateway's HTTP client, a way to
    sign in as any person, and a session on a service's database."""

    @property
    def gateway(self) -> httpx.AsyncClient: ...

    async def headers_for(self, person_id: uuid.UUID | str) -> dict[str, str]: ...

    def session(self, service: str) -> AsyncSession: ...


class ApiClient:
    """Calls ``stack``'s gateway as ``who``: a name from ``people`` or any person id. Paths
    not starting with ``/v1`` are under ``base``. ``expect`` is the status code the call
    must answer (``None``: any)."""

    def __init__(
        self, stack: Stack, *, base: str = "", people: Mapping[str, uuid.UUID] | None = None
    ) -> None:
        self.stack = stack
        self.base = base
        self._people = dict(people or {})
        self._headers: dict[str, dict[str, str]] = {}

    async def headers(self, who: str | uuid.UUID) -> dict[str, str]:
        key = str(who)
        if key not in self._headers:
            person_id = self._people[key] if key in self._people else uuid.UUID(key)
            self._headers[key] = await self.stack.headers_for(person_id)
        return self._headers[key]

    async def call(
        self,
        method: str,
        path: str,
        who: str | uuid.UUID,
        *,
        expect: int | None = 200,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        url = path if path.startswith("/v1") else self.base + path
        resp = await self.stack.gateway.request(
            method, url, headers={**(await self.headers(who)), **(headers or {})}, **kw
        )
        if expect is not None:
            assert resp.status_code == expect, (
                f"{method} {url} as {who}: {resp.status_code} {resp.text}"
            )
        return resp

    async def get(self, path: str, who: str | uuid.UUID, **kw: Any) -> Any:
        return (await self.call("GET", path, who, **kw)).json()

    async def post(
        self, path: str, who: str | uuid.UUID, json: Any = None, *, expect: int = 201, **kw: Any
    ) -> Any:
        return (await self.call("POST", path, who, json=json, expect=expect, **kw)).json()

    async def put(
        self, path: str, who: str | uuid.UUID, json: Any, *, expect: int = 200, **kw: Any
    ) -> Any:
        return (await self.call("PUT", path, who, json=json, expect=expect, **kw)).json()

    async def patch(self, path: str, who: str | uuid.UUID, json: Any, *, expect: int = 200) -> Any:
        """PATCH with the resource's current ETag in If-Match."""
        etag = (await self.call("GET", path, who)).headers["etag"]
        return (
            await self.call(
                "PATCH", path, who, json=json, expect=expect, headers={"If-Match": etag}
            )
        ).json()

    async def delete(self, path: str, who: str | uuid.UUID, *, expect: int = 204) -> httpx.Response:
        """DELETE with the resource's current ETag (as PATCH, DELETE needs If-Match)."""
        etag = (await self.call("GET", path, who)).headers["etag"]
        return await self.call("DELETE", path, who, expect=expect, headers={"If-Match": etag})


async def outbox(stack: Stack, service: str, event_type: str) -> list[dict[str, Any]]:
    """The envelopes of one event type in a service's outbox, oldest first."""
    async with stack.session(service) as session:
        rows = await session.execute(
            text("SELECT envelope FROM outbox WHERE type = :type ORDER BY seq"),
            {"type": event_type},
        )
        return [row[0] for row in rows]
