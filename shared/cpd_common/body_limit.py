"""Request body limits: a body larger than the route's kind accepts is a 413 problem, refused
while it arrives, before anything parses it or checks the caller's token.

:class:`BodyLimitMiddleware` (pure ASGI, outermost but for CORS) picks the limit from the
declared content type: ``max_body_bytes`` (1 MiB by default) for JSON, forms and anything
else, ``max_upload_bytes`` (20 MiB) for the upload types (``text/csv``). A ``Content-Length``
over the limit is refused at once, without reading a byte; a body sent without one (chunked)
is counted as it is read, and the read that passes the limit raises :class:`BodyTooLarge`: a
413 ``HTTPException``, so FastAPI's body parsing lets it through to the problem handlers, and
this middleware answers it itself when it is raised outside the app (e.g. in the input guard
or the gateway's proxy). Either way nothing past the limit is buffered.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cpd_common.errors import problem_response

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cpd_common.settings import ServiceSettings


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))
        self.limit = limit


def too_large(limit: int) -> str:
    return f"The request body is larger than the {_size(limit)} this request accepts."


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} bytes"


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        upload_types: Collection[str] = ("text/csv",),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_types = frozenset(t.lower().encode("latin-1") for t in upload_types)

    def limit_for(self, scope: Scope) -> tuple[int, bytes | None]:
        """(the limit for this request's content type, its Content-Length header or None)."""
        kind = b""
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                kind = bytes(value).split(b";", 1)[0].strip().lower()
            elif name == b"content-length":
                length = bytes(value)
        limit = self.max_upload_bytes if kind in self.upload_types else self.max_body_bytes
        return limit, length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, length = self.limit_for(scope)
        if length is not None:
            declared = int(length) if length.strip().isdigit() else None
            if declared is None or declared > limit:
                status = 413 if declared is not None else 400
                detail = too_large(limit) if declared is not None else "Bad Content-Length."
                await self._refuse(scope, receive, send, status, detail)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send, limit, started=started)
        except BaseExceptionGroup as group:
            # Raised inside a task group (a streaming response reading the body as it goes).
            matched, rest = group.split(BodyTooLarge)
            if matched is None or rest is not None:
                raise
            await self._too_large(scope, receive, send, limit, started=started)

    async def _too_large(
        self, scope: Scope, receive: Receive, send: Send, limit: int, *, started: bool
    ) -> None:
        if started:
            # The app answered already (it streamed before reading the whole body): end that
            # answer where it stands rather than send a second one.
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await self._refuse(scope, receive, send, 413, too_large(limit))

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, detail: str
    ) -> None:
        from cpd_common.input_guard import _request_id

        response = problem_response(
            status,
            detail,
            instance=scope.get("path", "").replace("\x00", "?"),
            request_id=_request_id(scope),
            # The rest of the body is not read: the connection cannot be reused.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def install_body_limit(app: FastAPI, settings: ServiceSettings) -> None:
    """Puts the limit outermost (the input guard keeps it there when it moves itself)."""
    app.user_middleware[:] = [m for m in app.user_middleware if m.cls is not BodyLimitMiddleware]
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_types=settings.upload_content_types,
    )
