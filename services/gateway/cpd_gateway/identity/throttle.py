"""The sign-in throttle: failed sign-ins are counted in token buckets
(:mod:`cpd_gateway.buckets`) per client address, per account from one address, and per account
from anywhere (the account is the username or client id as sent, whether or not it exists, so
the throttle tells nothing). An empty bucket answers 429 with ``Retry-After`` before any
password is checked, so a guessing caller costs the gateway almost nothing.

Why three: one address guessing at many accounts meets the address bucket; one address guessing
at one account meets the account-from-this-address bucket long before the account-wide one, so
a single attacker cannot lock a person out of their own sign-in elsewhere; many addresses
guessing at one account (a botnet) meet the account-wide bucket, which is larger.

A success refills the account's buckets: a person who mistyped a few times starts afresh once
in. The address bucket is not refilled by a success (a caller holding one valid login must not
reset it between guesses at others).
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
        per_account_and_address: int | None = None,
    ) -> None:
        """``per_account_and_address`` defaults to ``per_account``."""

        def buckets(capacity: int) -> TokenBuckets:
            return TokenBuckets(capacity=capacity, per_second=capacity / window_seconds)

        self.addresses = buckets(per_address)
        self.pairs = buckets(per_account_and_address or per_account)
        self.accounts = buckets(per_account)

    def _keys(self, account: str, address: str) -> list[tuple[TokenBuckets, str]]:
        account = account.lower()
        return [
            (self.addresses, address),
            (self.pairs, f"{account}\x00{address}"),
            (self.accounts, account),
        ]

    def check(self, *, account: str, address: str) -> None:
        """429 when any of the caller's buckets is empty (takes nothing)."""
        for buckets, key in self._keys(account, address):
            decision = buckets.peek(key)
            if not decision.allowed:
                raise TooManyRequests(THROTTLED, retry_after=decision.retry_after)

    def failed(self, *, account: str, address: str) -> None:
        for buckets, key in self._keys(account, address):
            buckets.take(key)

    def succeeded(self, *, account: str, address: str | None = None) -> None:
        """Clears the account's counts (from ``address``, when given, too)."""
        self.accounts.forget(account.lower())
        if address is not None:
            self.pairs.forget(f"{account.lower()}\x00{address}")
