"""One guard for every input channel: a NUL character is a 422 problem, never a 500; so are a
JSON body naming one key twice in an object and one nested too deeply to parse.

PostgreSQL cannot store NUL in text, so a NUL that reaches a query fails deep inside the
driver. Rather than checking field by field, :class:`InputGuardMiddleware` (pure ASGI, installed
outermost by the app factory) looks at the path, the query string, the headers and, for form and
JSON bodies, the body, before any route runs. Request models add their own check
(:class:`cpd_common.schemas.InputModel`) for bodies parsed elsewhere.

Duplicated keys are refused because parsers disagree on which one wins: the gateway, a
service and a client's validator must all read the same body. A body nested beyond what the
parser can recurse into is refused here too, so no route parsing its own body meets the
``RecursionError`` (SCIM did: a 500).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cpd_common.errors import problem_response

NUL_MESSAGE = "must not contain NUL (\\u0000) characters"
# Bodies up to this size are read and checked before the app sees them; a bigger form or JSON
# body goes through unchecked here (request models still refuse NUL in what they parse).
MAX_INSPECTED_BODY = 2 << 20


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _form_fields_with_nul(raw: bytes, where: str) -> list[str]:
    """Names (as error locations) of the urlencoded fields holding a NUL."""
    if b"\x00" not in raw and b"%00" not in raw.lower():
        return []
    text = raw.decode("latin-1")
    bad = [
        f"{where}.{name.replace(chr(0), '?') or '?'}"
        for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1")
        if "\x00" in name or "\x00" in value
    ]
    return bad or [where]


DUPLICATE_MESSAGE = "names a key twice"
TOO_DEEP_MESSAGE = "is nested too deeply"
NOT_UTF8_MESSAGE = "is not valid UTF-8"


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _json_errors(raw: bytes) -> list[dict[str, str]]:
    """What makes a JSON body unacceptable before any route reads it."""
    if b"\x00" in raw:
        return [{"loc": "body", "msg": NUL_MESSAGE}]
    try:
        value = json.loads(raw, object_pairs_hook=_unique_object)
    except _DuplicateKey as exc:
        return [{"loc": f"body.{exc.key}".replace("\x00", "?"), "msg": DUPLICATE_MESSAGE}]
    except RecursionError:
        return [{"loc": "body", "msg": TOO_DEEP_MESSAGE}]
    except UnicodeDecodeError:
        # JSON is UTF-8 (RFC 8259): a 422 like every other unreadable body, not the
        # framework's undeclared 400.
        return [{"loc": "body", "msg": NOT_UTF8_MESSAGE}]
    except ValueError:
        return []  # invalid JSON: the route's own parsing answers 422
    if b"\\u0000" in raw and _has_nul(value):
        return [{"loc": "body", "msg": NUL_MESSAGE}]
    return []


def _request_id(scope: Scope) -> str:
    from cpd_common.app import clean_request_id

    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            return clean_request_id(value.decode("latin-1"))
    return clean_request_id(None)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, locations: list[str], errors: Any = None
) -> None:
    errors = errors or [{"loc": loc, "msg": NUL_MESSAGE} for loc in locations]
    response = problem_response(
        422,
        "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]),
        errors=errors,
        instance=scope.get("path", "").replace("\x00", "?"),
        request_id=_request_id(scope),
    )
    await response(scope, receive, send)


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


class InputGuardMiddleware:
    """Refuses (422) a request with a NUL anywhere in its path, query, headers or form/JSON
    body, or a JSON body with a duplicated key or nested too deeply, before routing,
    authentication or the database see it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad: list[str] = []
        raw_path = scope.get("raw_path") or b""
        if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(raw_path):
            bad.append("path")
        query = scope.get("query_string") or b""
        if query:
            bad += _form_fields_with_nul(query, "query")
        for name, value in scope.get("headers", ()):
            if b"\x00" in name or b"\x00" in value:
                bad.append("header." + name.decode("latin-1").replace("\x00", "?"))
        if bad:
            await _refuse(scope, receive, send, bad)
            return
        kind = _content_type(scope)
        if kind not in (b"application/x-www-form-urlencoded", b"application/json") and not (
            kind.startswith(b"application/") and kind.endswith(b"+json")
        ):
            await self.app(scope, receive, send)
            return
        # Read the body (bounded), check it, then hand the same messages to the app.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False) or size > MAX_INSPECTED_BODY:
                break
        complete = messages[-1]["type"] == "http.request" and not messages[-1].get(
            "more_body", False
        )
        if complete:
            body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
            if kind == b"application/x-www-form-urlencoded":
                bad = _form_fields_with_nul(body, "body")
                if bad:
                    await _refuse(scope, receive, send, bad)
                    return
            elif errors := _json_errors(body):
                await _refuse(scope, receive, send, [], errors)
                return
        replay = iter(messages)

        async def replaying_receive() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replaying_receive, send)


def install_input_guard(app: FastAPI) -> None:
    """Puts the guard outermost (again, when an app adds its own middleware later, as the
    gateway's proxy does), so nothing runs before it but the body limit
    (:mod:`cpd_common.body_limit`), which stays outside it."""
    from cpd_common.body_limit import BodyLimitMiddleware

    limits = [m for m in app.user_middleware if m.cls is BodyLimitMiddleware]
    app.user_middleware[:] = [
        m
        for m in app.user_middleware
        if m.cls is not InputGuardMiddleware and m.cls is not BodyLimitMiddleware
    ]
    app.add_middleware(InputGuardMiddleware)
    app.user_middleware[:0] = limits
