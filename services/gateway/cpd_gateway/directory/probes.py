"""Emails are the platform-wide sign-in name, so their uniqueness is global: a trust admin
adding a person with an email that any trust already uses is refused. The refusal must not
become a way to ask whether someone has an account elsewhere, so it says only "this email
cannot be used" (the same answer whichever trust holds it), and the refusals each caller
meets are counted: past ``email_refusals_per_caller`` within ``email_refusal_window_seconds``
every request of theirs that sets an email is a 429 until their allowance refills.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request

from cpd_common.auth import Principal
from cpd_common.errors import TooManyRequests
from cpd_gateway.buckets import TokenBuckets
from cpd_gateway.directory import errors

TOO_MANY = "Too many emails that cannot be used; wait before trying another."


def refusal_counter(settings: Any) -> TokenBuckets:
    per_caller = float(settings.email_refusals_per_caller)
    window = float(settings.email_refusal_window_seconds)
    return TokenBuckets(capacity=per_caller, per_second=per_caller / window)


@asynccontextmanager
async def email_probes(
    request: Request, principal: Principal, email: str | None
) -> AsyncIterator[None]:
    """Around a create or update that sets ``email``: 429 once the caller has met too many
    refusals, and counts this one if it is refused."""
    if not email:
        yield
        return
    counter: TokenBuckets = request.app.state.email_refusals
    decision = counter.peek(principal.sub)
    if not decision.allowed:
        raise TooManyRequests(TOO_MANY, retry_after=decision.retry_after)
    try:
        yield
    except errors.EmailTaken:
        counter.take(principal.sub)
        raise
