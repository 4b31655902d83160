"""The token buckets behind the rate limits and the sign-in throttle (a fake clock: no sleeping)."""

from __future__ import annotations

from cpd_gateway.buckets import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_empties_refills_evenly_and_reports_its_state() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=3, per_second=0.5, clock=clock)
    first = buckets.take("a")
    assert (first.allowed, first.limit, first.remaining, first.reset) == (True, 3, 2, 2)
    buckets.take("a")
    last = buckets.take("a")
    assert (last.allowed, last.remaining, last.retry_after) == (True, 0, 2)
    refused = buckets.take("a")
    assert (refused.allowed, refused.remaining, refused.retry_after, refused.reset) == (
        False,
        0,
        2,
        6,
    )
    clock.now += 2.0  # one token back
    assert buckets.peek("a").allowed
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed
    clock.now += 100.0  # never more than the capacity
    assert buckets.peek("a").remaining == 3
    # Another key is untouched; a per-call capacity overrides the default.
    assert buckets.take("b", capacity=10, per_second=1).remaining == 9


def test_peek_takes_nothing_and_forget_refills() -> None:
    buckets = TokenBuckets(capacity=1, per_second=0.001, clock=Clock())
    assert buckets.peek("k").allowed and buckets.peek("k").allowed
    assert buckets.take("k").allowed
    assert not buckets.peek("k").allowed
    buckets.forget("k")
    assert buckets.take("k").allowed


def test_memory_stays_bounded() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=2, per_second=1, max_keys=100, clock=clock)
    for i in range(100):
        buckets.take(f"busy-{i}")
    clock.now += 10  # all full again: they are dropped first
    buckets.take("newcomer")
    assert len(buckets) == 1
    for i in range(250):
        buckets.take(f"k-{i}")  # none full yet: the least recently used go
    assert len(buckets) <= 100
    # The newest are kept (one token taken already), the oldest were dropped (full again).
    assert buckets.peek("k-249").remaining == 1
    assert buckets.peek("k-0").remaining == 2
