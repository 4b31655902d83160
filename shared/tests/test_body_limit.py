"""The body limit as a pure ASGI middleware, in front of a tiny app (no server, no database)."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from cpd_common.body_limit import BodyLimitMiddleware

seen: list[int] = []


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    seen.append(len(body))
    return JSONResponse({"length": len(body)})


async def streams_first(request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        yield b"started"
        async for _ in request.stream():
            pass

    return StreamingResponse(chunks())


def client() -> httpx.AsyncClient:
    app = BodyLimitMiddleware(
        Starlette(
            routes=[
                Route("/echo", echo, methods=["POST"]),
                Route("/stream", streams_first, methods=["POST"]),
            ]
        ),
        max_body_bytes=100,
        max_upload_bytes=1000,
        upload_types=["text/csv"],
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def chunked(body: bytes, size: int = 10) -> Any:
    for i in range(0, len(body), size):
        yield body[i : i + size]


async def test_limits_by_content_type_declared_or_counted() -> None:
    seen.clear()
    async with client() as c:
        assert (await c.post("/echo", content=b"x" * 100)).json() == {"length": 100}
        declared = await c.post("/echo", content=b"x" * 101)
        assert declared.status_code == 413
        assert declared.headers["content-type"] == "application/problem+json"
        assert "100 bytes" in declared.json()["detail"]
        assert seen == [100], "the app never saw the oversize body"
        counted = await c.post("/echo", content=chunked(b"x" * 500))
        assert counted.status_code == 413 and seen == [100]
        csv = {"content-type": "text/csv; charset=utf-8"}
        assert (await c.post("/echo", content=b"x" * 900, headers=csv)).status_code == 200
        assert (await c.post("/echo", content=b"x" * 1001, headers=csv)).status_code == 413
        bad = await c.post("/echo", content=b"x", headers={"content-length": "abc"})
        assert bad.status_code == 400


async def test_an_answer_already_started_is_not_answered_twice() -> None:
    async with client() as c:
        resp = await c.post("/stream", content=chunked(b"x" * 500))
        assert resp.status_code == 200 and resp.content.startswith(b"started")
