"""The sign-in throttle: failed sign-ins are counted per account (the username or client id as
sent, whether or not it exists, so the throttle tells nothing) and per client address, each in
a token bucket (:mod:`cpd_gateway.buckets`). An empty bucket answers 429 with ``Retry-After``
before any password is checked, so a guessing caller costs the gateway almost nothing.

A success refills the account's bucket: a person who mistyped a few times starts afresh once
in. The address bucket is not refilled by a success (a caller holding one
valid login must not reset it between guesses at others).
"""

from __future__ import annotations

from cpd_common.errors import TooManyRequests
from cpd_gateway.buckets import TokenBuckets

THROTTLED = "Too many failed sign-ins; wait before trying again."


class LoginThrottle:
    def __init__(
        self,
        *,
        per_account: int,
        per_address: int,
        window_seconds: float,
    ) -> None:
        self.accounts = TokenBuckets(capacity=per_account, per_second=per_account / window_seconds)
        self.addresses = TokenBuckets(capacity=per_address, per_second=per_address / window_seconds)

    def check(self, *, account: str, address: str) -> None:
        """429 when either bucket is empty (takes nothing)."""
        for buckets, key in ((self.addresses, address), (self.accounts, account.lower())):
            decision = buckets.peek(key)
            if not decision.allowed:
                raise TooManyRequests(THROTTLED, retry_after=decision.retry_after)

    def failed(self, *, account: str, address: str) -> None:
        self.addresses.take(address)
        self.accounts.take(account.lower())

    def succeeded(self, *, account: str) -> None:
        self.accounts.forget(account.lower())
