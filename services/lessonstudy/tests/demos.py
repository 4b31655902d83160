"""The lesson study demo as the demo tests start from it."""

from __future__ import annotations

from cpd_lessonstudy import demo as lessonstudy_demo
from cpd_local.stack import Stack


async def demo_seeded_twice(demo: Stack) -> None:
    """The demo seeded once the directory projection knows its people, then seeded again:
    the second run must change nothing (the caller counts what is there)."""
    async with demo.session("lessonstudy") as session:
        assert await lessonstudy_demo.projection_ready(session)
        await lessonstudy_demo.seed_demo(session)
        await session.commit()
    async with demo.session("lessonstudy") as session:
        await lessonstudy_demo.seed_demo(session)
        await session.commit()
