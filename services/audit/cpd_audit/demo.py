"""Demo data for ``make up`` and the tests: a closed values-v-practice audit across both
Oakridge schools with 28 anonymous responses (so a newcomer sees real results and a real
"rhetoric v reality" chart at once; support staff and leaders are groups of 4, withheld in
breakdowns), an open CPD Quality Framework diagnostic with a few responses, and the planning
demo (:mod:`cpd_audit.demo_planning`).

The audits' content is data (``demo.yaml``); the answers are drawn from a seeded generator
here. Fixed ids (UUIDv5 from the gateway's demo namespace); idempotent; never commits. Audits are
opened, answered and closed through the service functions, so the outbox holds the events a
real round would have produced.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import lifecycle as audits_lifecycle
from cpd_audit.demo_planning import seed_planning_demo
from cpd_audit.instruments import builtin
from cpd_audit.models import Audit, Person, School
from cpd_audit.responses import service as responses_service
from cpd_audit.responses.schemas import ResponseCreate
from cpd_common.db import utcnow
from cpd_common.demo import load_demo
from cpd_demo.trust import (
    NORTHFIELD,
    OAKRIDGE,
    PEOPLE,
    PEOPLE_BY_KEY,
    SOUTHBANK,
    DemoPerson,
    demo_id,
)

# The content lives in ``demo.yaml``; this module applies it.
CONTENT: dict[str, Any] = load_demo("cpd_audit", "demo.yaml")
VALUES: dict[str, Any] = CONTENT["values"]
DIAGNOSTIC: dict[str, Any] = CONTENT["diagnostic"]
VALUES_AUDIT = demo_id("audit", VALUES["key"])
DIAGNOSTIC_AUDIT = demo_id("audit", DIAGNOSTIC["key"])
AUDIENCE: list[str] = CONTENT["audience"]
OAKRIDGE_PEOPLE = [p for p in PEOPLE if p.trust_id == OAKRIDGE]
DIAGNOSTIC_RESPONDENTS: list[str] = DIAGNOSTIC["respondents"]
PRACTICE_LAG: dict[str, float] = VALUES["practice_lag"]


async def projection_ready(session: AsyncSession) -> bool:
    """True once every Oakridge demo person and school has reached this service."""
    people = await session.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.id.in_([p.id for p in OAKRIDGE_PEOPLE]))
    )
    schools = await session.scalar(
        select(func.count()).select_from(School).where(School.id.in_([NORTHFIELD, SOUTHBANK]))
    )
    return people == len(OAKRIDGE_PEOPLE) and schools == 2


def _values_answers(rng: random.Random, person: DemoPerson) -> dict[str, Any]:
    leader = person.staff_group == "leader"
    answers = {}
    for key, lag in PRACTICE_LAG.items():
        values = min(5, max(3, round(rng.gauss(4.4, 0.6))))
        # Leaders see practice more kindly than staff do.
        practice = round(rng.gauss(values - lag + (VALUES["leader_lift"] if leader else 0.0), 0.7))
        answers[key] = {"values": values, "practice": min(5, max(1, practice))}
    return answers


def _diagnostic_answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in builtin.load(DIAGNOSTIC["instrument"], DIAGNOSTIC["version"])["items"]:
        section = int(item["section"])
        if rng.random() < (0.25 if section in (5, 7) else 0.06):
            answers[item["key"]] = {"dont_know": True}
        else:
            centre = 3.9 if section in (1, 2) else 2.8 if section in (3, 7) else 3.3
            answers[item["key"]] = {"score": min(5, max(1, round(rng.gauss(centre, 0.9))))}
    return answers


def _audit(spec: dict[str, Any]) -> Audit:
    today = utcnow().date()
    defaults: dict[str, Any] = {
        "trust_id": OAKRIDGE,
        "status": "draft",
        "scope_kind": "trust",
        "school_ids": [],
        "audience_groups": list(AUDIENCE),
        "min_group_size": CONTENT["min_group_size"],
        "created_by": PEOPLE_BY_KEY[CONTENT["created_by"]].id,
    }
    return Audit(
        **defaults,
        id=demo_id("audit", spec["key"]),
        instrument_version_id=builtin.version_id(spec["instrument"], spec["version"]),
        title=spec["title"],
        description=spec["description"],
        opens_on=today + timedelta(days=spec["opens"]),
        closes_on=today + timedelta(days=spec["closes"]),
    )


async def seed_demo(session: AsyncSession) -> None:
    """Seeds the demo audits (and the planning demo); does nothing if already there."""
    if await session.get(Audit, VALUES_AUDIT) is None:
        await _seed_audits(session)
    await seed_planning_demo(session)


async def _seed_audits(session: AsyncSession) -> None:
    admin = PEOPLE_BY_KEY[CONTENT["created_by"]].principal()
    session.add(_audit(VALUES))
    session.add(_audit(DIAGNOSTIC))
    await session.flush()

    rng = random.Random(2026)
    await audits_lifecycle.open_audit(session, VALUES_AUDIT, principal=admin)
    for person in OAKRIDGE_PEOPLE:
        if person.staff_group not in AUDIENCE:
            continue
        await responses_service.submit_response(
            session,
            VALUES_AUDIT,
            ResponseCreate.model_validate({"answers": _values_answers(rng, person)}),
            principal=person.principal(),
        )
    closed = await audits_lifecycle.close_audit(session, VALUES_AUDIT, principal=admin)
    # The round ran over the planned weeks.
    assert closed.opens_on is not None and closed.closes_on is not None
    closed.opened_at = datetime.combine(closed.opens_on, time(8), tzinfo=UTC)
    closed.closed_at = datetime.combine(closed.closes_on, time(17), tzinfo=UTC)

    await audits_lifecycle.open_audit(session, DIAGNOSTIC_AUDIT, principal=admin)
    for key in DIAGNOSTIC_RESPONDENTS:
        await responses_service.submit_response(
            session,
            DIAGNOSTIC_AUDIT,
            ResponseCreate.model_validate({"answers": _diagnostic_answers(rng)}),
            principal=PEOPLE_BY_KEY[key].principal(),
        )
    await session.flush()
