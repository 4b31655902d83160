"""The demos evaluation tests start from: the lesson study service's (arriving here by its
events) and this service's own."""

from __future__ import annotations

from cpd_evaluation import demo as evaluation_demo
from cpd_lessonstudy import demo as lessonstudy_demo
from cpd_local.stack import Stack


async def lesson_studies_arrived(demo: Stack) -> None:
    """The lesson study service's demo seeded there and its events handled here."""
    async with demo.session("lessonstudy") as session:
        await lessonstudy_demo.seed_demo(session)
        await session.commit()
    await demo.settle()


async def evaluation_demo_seeded(demo: Stack) -> None:
    """This service's demo seeded, once the directory projection knows its people."""
    async with demo.session("evaluation") as session:
        assert await evaluation_demo.projection_ready(session)
        await evaluation_demo.seed_demo(session)
        await session.commit()
