"""Concurrency checks for "one X per Y" rules: fire the same request several times at once
and sort the answers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx


async def race(
    n: int, send: Callable[[], Awaitable[httpx.Response]]
) -> tuple[list[httpx.Response], Counter[int]]:
    """Sends ``n`` requests concurrently (``asyncio.gather`` over the ASGI client); returns
    them and how many got each status code."""
    responses = await asyncio.gather(*(send() for _ in range(n)))
    return list(responses), Counter(r.status_code for r in responses)


def one_winner(
    responses: list[httpx.Response],
    *,
    created: int = 201,
    others: frozenset[int] = frozenset({409}),
) -> httpx.Response:
    """Exactly one request made the record; every other one got a clear answer (409, or the
    replay status) and never a 500. Returns the winner."""
    statuses = Counter(r.status_code for r in responses)
    winners = [r for r in responses if r.status_code == created]
    assert len(winners) == 1, f"expected one {created}, got {dict(statuses)}: {responses[0].text}"
    losers = [r for r in responses if r is not winners[0]]
    assert all(r.status_code in others for r in losers), (
        f"unexpected statuses {dict(statuses)}: "
        + "; ".join(r.text[:200] for r in losers if r.status_code not in others)
    )
    for r in losers:
        if r.status_code == 409:
            assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return winners[0]
