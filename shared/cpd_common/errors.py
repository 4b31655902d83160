"""RFC 9457 problem+json for every error a service can answer."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger("cpd.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://cpd.example/problems/"


class ProblemError(Exception):
    """A domain error that knows its HTTP status. Subclass per domain (``AuditNotFound(NotFound)``)."""

    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers
        # RFC 9457 extension members, e.g. the id of the record a 409 collided with.
        self.extensions = extensions


class BadRequest(ProblemError):
    pass


class Unauthorized(ProblemError):
    status, code, title = 401, "unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ProblemError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, code, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(ProblemError):
    status, code, title = 428, "precondition-required", "Precondition required"


class Unprocessable(ProblemError):
    status, code, title = 422, "validation-error", "Request validation failed"


class PayloadTooLarge(ProblemError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class TooManyRequests(ProblemError):
    """429: slow down. ``retry_after`` (seconds) becomes the ``Retry-After`` header."""

    status, code, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kw: Any) -> None:
        kw["headers"] = {**(kw.get("headers") or {}), "Retry-After": str(max(1, retry_after))}
        super().__init__(detail, **kw)


class ServiceUnavailable(ProblemError):
    status, code, title = 503, "service-unavailable", "Service temporarily unavailable"


_STATUS_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Request validation failed"),
    428: ("precondition-required", "Precondition required"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    502: ("bad-gateway", "Bad gateway"),
    503: ("service-unavailable", "Service temporarily unavailable"),
    504: ("gateway-timeout", "Gateway timeout"),
}


class FieldError(BaseModel):
    loc: str
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error answer, from a service or from the
    gateway (``application/problem+json``). Extension members (``need_id``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


PROBLEM_TEXT = {
    400: "The request could not be read.",
    401: "No valid access token: send `Authorization: Bearer <token>`.",
    403: "Your role does not allow this.",
    404: "No such resource, or not one you may see (another trust's looks the same).",
    409: "Conflicts with the resource's current state.",
    412: "If-Match does not match the current ETag.",
    413: "The request body is larger than this operation accepts.",
    422: "The request is not valid; `errors` lists every problem.",
    428: "If-Match is required.",
    429: "Too many requests: wait `Retry-After` seconds.",
    503: "A backing service is unreachable; retry after `Retry-After` seconds.",
}


def problems(
    *statuses: int, described: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem statuses an operation can answer, each with the
    :class:`Problem` body; ``described`` words a status for this operation's domain."""
    text = {**PROBLEM_TEXT, **(described or {})}
    return {s: {"model": Problem, "description": text.get(s, "Error")} for s in statuses}


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    request: Request | None = None,
    request_id: str | None = None,
    instance: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """The one way to answer with a problem (an ASGI app too: middleware and the gateway's
    proxy send it). ``request`` gives ``instance`` and the request id; without one, pass
    them."""
    default_code, default_title = _STATUS_CODES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (code or default_code),
        "title": title or default_title,
        "status": status,
        "detail": detail or title or default_title,
    }
    if instance is not None:
        body["instance"] = instance
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None) or request_id
    if request_id:
        body["request_id"] = request_id
        headers = {**(headers or {}), "X-Request-ID": request_id}
    if errors is not None:
        body["errors"] = errors
    for key, value in (extensions or {}).items():
        body.setdefault(key, value)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def error_response(
    exc: ProblemError, *, request: Request | None = None, request_id: str | None = None
) -> JSONResponse:
    """A domain error as its problem response."""
    return problem_response(
        exc.status,
        exc.detail,
        code=exc.code,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
        request=request,
        request_id=request_id,
        extensions=exc.extensions,
    )


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        msg = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        out.append({"loc": _loc(err.get("loc", ())), "msg": msg})
    return out


# SQLSTATEs of a database that is not there for the moment: connection exceptions (class 08),
# shutting down or starting up (57P01-57P03: a restart, a crash recovery), too many clients.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
UNAVAILABLE_DRIVER_ERRORS = frozenset(
    {
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "InterfaceError",
        "TooManyConnectionsError",
        "AdminShutdownError",
        "CrashShutdownError",
    }
)


def is_unavailable(exc: BaseException) -> bool:
    """True when the database (or another dependency) could not be reached: answer 503, not 500.

    Looks through the whole chain (SQLAlchemy wraps the driver's error in its own adapter
    class, whose cause is the asyncpg exception): "the database system is starting up"
    arrives as a plain ``DBAPIError`` around ``CannotConnectNowError``."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen or len(seen) > 20:
            continue
        seen.add(id(err))
        if isinstance(err, (OperationalError, InterfaceError)):
            return True
        if isinstance(err, DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(err, (ConnectionError, TimeoutError, OSError)):
            return True
        if type(err).__name__ in UNAVAILABLE_DRIVER_ERRORS:
            return True
        sqlstate = str(getattr(err, "sqlstate", "") or getattr(err, "pgcode", "") or "")
        if sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES:
            return True
        orig = getattr(err, "orig", None)
        todo.extend([orig if isinstance(orig, BaseException) else None, err.__cause__])
    return False


UNIQUE_VIOLATION = "23505"


def is_unique_violation(exc: BaseException) -> bool:
    """True for PostgreSQL's unique_violation: a "one X per Y" rule held by a constraint."""
    if not isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == UNIQUE_VIOLATION or (
        getattr(orig, "pgcode", None) == UNIQUE_VIOLATION
    )


def install_problem_handlers(app: FastAPI, *, retry_after: int = 2) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return error_response(exc, request=request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; Allow lists them all.
            allowed = {
                method
                for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
                if any(
                    route.matches({**request.scope, "method": method})[0] == Match.FULL
                    for route in request.app.router.routes
                )
            }
            if allowed:
                headers = {**(headers or {}), "Allow": ", ".join(sorted(allowed))}
        return problem_response(exc.status_code, detail, headers=headers, request=request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
        return problem_response(422, detail, errors=errors, request=request)

    async def on_unhandled(request: Request, exc: Exception) -> JSONResponse:
        if is_unique_violation(exc):
            # The last line of defence for a race the service did not name: a concurrent
            # request already created the one record allowed. A clear 409, never a 500.
            log.info("unique violation answered 409: %s", getattr(exc, "orig", exc))
            return problem_response(
                409,
                "This would be a second record where only one is allowed; "
                "another request created it first. Read it and retry if needed.",
                request=request,
            )
        if is_unavailable(exc):
            log.warning("dependency unavailable: %s", type(exc).__name__)
            return problem_response(
                503,
                "A backing service is unreachable; retry shortly.",
                headers={"Retry-After": str(retry_after)},
                request=request,
            )
        log.exception("unhandled error")
        return problem_response(
            500,
            "An unexpected error occurred. Quote the request id when reporting it.",
            request=request,
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    # Registered per class so they run inside the app (no re-raise, no traceback in the logs
    # for an expected outage); ``Exception`` is the last resort.
    for cls in (IntegrityError, DBAPIError, OSError, TimeoutError):
        app.add_exception_handler(cls, on_unhandled)
    app.add_exception_handler(Exception, on_unhandled)
