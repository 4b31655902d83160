"""Password and client-secret hashing, off the event loop.

argon2 is slow on purpose (about 50-150 ms of CPU per hash). Run on the event loop, a few
wrong-password logins a second stalled every other request of the gateway. Here every hash and
every check runs in a small thread pool (argon2-cffi releases the GIL while it works), so the
loop keeps serving; the pool's size bounds how many cores sign-ins may take at once, and a
bounded queue answers 503 (with ``Retry-After``) rather than letting waiting sign-ins pile up.
The pool's threads also run at a lower CPU priority (nice 10 on Linux): when cores are
scarce, answering requests comes before checking guesses. The throttle on failures (:mod:`cpd_gateway.identity.throttle`) keeps one caller from filling
the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cpd_common.errors import ServiceUnavailable

hasher = PasswordHasher()
HASHING_NICENESS = 10


def default_workers() -> int:
    """Half the cores, at least one: the other half keeps serving requests."""
    return max(1, (os.cpu_count() or 2) // 2)


class PasswordPool:
    """A bounded pool of hashing threads with a bounded queue in front of it."""

    def __init__(self, *, workers: int = 0, queue: int = 64, retry_after: int = 2) -> None:
        self.workers = workers or default_workers()
        self.queue = queue
        self.retry_after = retry_after
        self._executor: ThreadPoolExecutor | None = None
        # Only touched on the event loop's thread.
        self._in_flight = 0

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.workers, thread_name_prefix="argon2", initializer=_yield_cpu
            )
        return self._executor

    async def _run(self, fn: object, *args: str) -> object:
        if self._in_flight >= self.workers + self.queue:
            raise ServiceUnavailable(
                "Too many sign-ins are being checked right now; retry shortly.",
                headers={"Retry-After": str(self.retry_after)},
            )
        self._in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool(), fn, *args)  # type: ignore[arg-type]
        finally:
            self._in_flight -= 1

    async def hash(self, secret: str) -> str:
        return str(await self._run(hasher.hash, secret))

    async def verify(self, hash_: str, secret: str) -> bool:
        return bool(await self._run(check, hash_, secret))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _yield_cpu() -> None:
    """Lowers the calling thread's CPU priority (Linux threads have their own nice value)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


def check(hash_: str, secret: str) -> bool:
    """Blocking: only for the pool's threads (and scripts with no event loop)."""
    try:
        return hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


# The gateway's pool: sized from its settings at start-up (``configure``).
pool = PasswordPool()


def configure(*, workers: int, queue: int, retry_after: int) -> PasswordPool:
    global pool
    pool.close()
    pool = PasswordPool(workers=workers, queue=queue, retry_after=retry_after)
    return pool


async def hash_secret(secret: str) -> str:
    return await pool.hash(secret)


async def verify_secret(hash_: str, secret: str) -> bool:
    return await pool.verify(hash_, secret)
