"""Rate limits per person and per API client, at the gateway (token buckets, in memory).

Every request with a valid access token takes one token from its subject's bucket: people get
``rate_limit_person_per_minute`` (generous: a busy front-end never meets it), API clients the
limit given to them when registered (``rate_limit_per_minute``, carried in their tokens) or
``rate_limit_client_per_minute``. A bucket holds one minute's worth and refills evenly, so a
caller may burst up to the whole minute's allowance at once. Answers carry
``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` (IETF httpapi draft) and
``RateLimit-Policy``; an empty bucket is a 429 problem with ``Retry-After``.

The token is verified here once; the verified principal is left in the request's state, where
the proxy and the gateway's own routes pick it up instead of verifying it again. A request
without a valid token passes untouched (the route answers 401 as before).

Buckets live in each replica's memory (docs/operations.md: with ``n`` replicas behind a
round-robin balancer a caller gets up to ``n`` times its limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cpd_common.auth import Principal, TokenVerifier
from cpd_common.errors import ProblemError, problem_response
from cpd_gateway.buckets import Decision, TokenBuckets

WINDOW_SECONDS = 60
# The claim that carries an API client's own limit (requests per minute).
CLAIM = "rate_limit"


def limit_of(principal: Principal, settings: Any) -> int:
    if principal.client_id is not None:
        own = principal.claims.get(CLAIM)
        if isinstance(own, int) and not isinstance(own, bool) and own > 0:
            return own
        return int(settings.rate_limit_client_per_minute)
    return int(settings.rate_limit_person_per_minute)


def headers_of(decision: Decision) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset).encode()),
        (b"ratelimit-policy", f"{decision.limit};w={WINDOW_SECONDS}".encode()),
    ]


class RateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, settings: Any, verifier_getter: Callable[[], TokenVerifier]
    ) -> None:
        self.app = app
        self.settings = settings
        self.verifier_getter = verifier_getter
        self.buckets = TokenBuckets(capacity=1, per_second=1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.settings.rate_limits_enabled:
            await self.app(scope, receive, send)
            return
        token = ""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, rest = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    token = rest.strip()
                break
        if not token:
            await self.app(scope, receive, send)
            return
        try:
            principal = await self.verifier_getter().verify(token)
        except ProblemError:
            await self.app(scope, receive, send)  # the route answers 401 (or 503)
            return
        scope.setdefault("state", {})["principal"] = principal
        limit = limit_of(principal, self.settings)
        decision = self.buckets.take(
            principal.sub, capacity=limit, per_second=limit / WINDOW_SECONDS
        )
        extra = headers_of(decision)
        if not decision.allowed:
            from cpd_common.input_guard import _request_id

            response = problem_response(
                429,
                f"More than {limit} requests a minute; wait {decision.retry_after} s.",
                headers={
                    "Retry-After": str(decision.retry_after),
                    **{k.decode(): v.decode() for k, v in extra},
                },
                instance=scope.get("path"),
                request_id=_request_id(scope),
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
