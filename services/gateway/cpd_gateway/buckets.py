"""Token buckets by key, in this process's memory: the one mechanism behind the gateway's
rate limits (per person, per API client) and its sign-in throttle (failures per account and
per client address).

A bucket holds up to ``capacity`` tokens and refills at ``per_second``; a request (or a failed
sign-in) takes one. Buckets live in the memory of each gateway replica, so with ``n`` replicas
behind a load balancer a caller can get up to ``n`` times a limit (docs/operations.md says why
that tolerance is accepted). Memory stays bounded: past ``max_keys`` buckets, full ones (which
say nothing a new bucket would not) are dropped first, then the least recently used.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """The state of one bucket after a look or a take."""

    allowed: bool
    limit: int
    remaining: int
    # Seconds until the bucket is full again (RateLimit-Reset).
    reset: int
    # Seconds until one token is there (Retry-After when refused).
    retry_after: int


class TokenBuckets:
    def __init__(
        self,
        *,
        capacity: float,
        per_second: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.max_keys = max_keys
        self.clock = clock
        # key -> (tokens, when counted, capacity, per_second); insertion order is recency.
        self._buckets: dict[str, tuple[float, float, float, float]] = {}

    def _level(
        self, key: str, capacity: float | None, per_second: float | None
    ) -> tuple[float, float, float, float]:
        now = self.clock()
        capacity = self.capacity if capacity is None else capacity
        per_second = self.per_second if per_second is None else per_second
        found = self._buckets.pop(key, None)
        if found is None:
            return capacity, now, capacity, per_second
        tokens, then, _, _ = found
        return min(capacity, tokens + (now - then) * per_second), now, capacity, per_second

    def _decision(
        self, allowed: bool, tokens: float, capacity: float, per_second: float
    ) -> Decision:
        rate = per_second if per_second > 0 else 1e-9
        return Decision(
            allowed=allowed,
            limit=int(capacity),
            remaining=max(0, math.floor(tokens)),
            reset=max(0, math.ceil((capacity - tokens) / rate)),
            retry_after=0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / rate)),
        )

    def _store(self, key: str, state: tuple[float, float, float, float]) -> None:
        self._buckets[key] = state
        if len(self._buckets) > self.max_keys:
            self._prune()

    def take(
        self,
        key: str,
        *,
        cost: float = 1.0,
        capacity: float | None = None,
        per_second: float | None = None,
    ) -> Decision:
        """Takes ``cost`` tokens when there are enough (``allowed``); otherwise takes none."""
        tokens, now, capacity, per_second = self._level(key, capacity, per_second)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        self._store(key, (tokens, now, capacity, per_second))
        return self._decision(allowed, tokens, capacity, per_second)

    def peek(
        self, key: str, *, capacity: float | None = None, per_second: float | None = None
    ) -> Decision:
        """Whether one token is there, taking none."""
        tokens, now, capacity, per_second = self._level(key, capacity, per_second)
        self._store(key, (tokens, now, capacity, per_second))
        return self._decision(tokens >= 1, tokens, capacity, per_second)

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self) -> None:
        now = self.clock()
        for key, (tokens, then, capacity, per_second) in list(self._buckets.items()):
            if tokens + (now - then) * per_second >= capacity:
                del self._buckets[key]
        while len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]
