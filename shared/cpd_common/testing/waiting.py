"""Waiting in tests for something that happens in the background (real worker loops)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05
) -> Any:
    """Polls an async predicate until it returns something truthy (for the real-worker test)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout:.1f}s")
        await asyncio.sleep(interval)
