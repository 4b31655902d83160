"""Demo planning data for the demo trust: a few needs at Northfield and Southbank (whole
school, team and individual; one from the demo's values-v-practice round), Northfield's three-year alignment plan and its strategic CPD
plan for the current academic year. Called from :func:`cpd_audit.demo.seed_demo`.

The content is data (``demo_planning.yaml``); this module applies it. Fixed ids (UUIDv5 from the gateway's demo namespace), so scripts and front-end developers can
rely on them; idempotent; never commits; adds the events a real request would.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.alignment_plans.schemas import AlignmentGrid
from cpd_audit.models import AlignmentPlan, CpdPlan, CpdPlanRow, Need, NeedAuditItem
from cpd_common import events
from cpd_common.db import utcnow
from cpd_common.demo import load_demo
from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, SOUTHBANK, demo_id

CONTENT: dict[str, Any] = load_demo("cpd_audit", "demo_planning.yaml")
SCHOOLS = {"northfield": NORTHFIELD, "southbank": SOUTHBANK}

NEED_WRITING = demo_id("need", "northfield-writing")
NEED_KS1_MATHS = demo_id("need", "northfield-ks1-maths")
NEED_ECT_BEHAVIOUR = demo_id("need", "northfield-ect-behaviour")
NEED_SEND = demo_id("need", "southbank-send")
NEED_SCIENCE = demo_id("need", "southbank-science-practicals")
NEED_ENQUIRY = demo_id("need", "southbank-classroom-enquiry")
# The demo's closed values-v-practice round (see cpd_audit.demo), where principle 2 lags.
VALUES_AUDIT = demo_id("audit", "autumn-values-v-practice")
ALIGNMENT_PLAN = demo_id("alignment-plan", CONTENT["alignment_plan"]["key"])
CPD_PLAN = demo_id("cpd-plan", CONTENT["cpd_plan"]["key"])


def current_start_year(today: date | None = None) -> int:
    """The academic year under way (September to August): 2026 for 2026/27."""
    today = today or utcnow().date()
    return today.year if today.month >= 9 else today.year - 1


def _needs() -> list[dict[str, Any]]:
    """The needs as Need fields, with ``audit_items`` as (audit id, item keys) when linked."""
    out = []
    for spec in CONTENT["needs"]:
        need = dict(spec)
        need["id"] = demo_id("need", need.pop("key"))
        need["school_id"] = SCHOOLS[need.pop("school")]
        need["recorded_by"] = PEOPLE_BY_KEY[need["recorded_by"]].id
        if "person" in need:
            need["person_id"] = PEOPLE_BY_KEY[need.pop("person")].id
        if "audit_items" in need:
            link = need.pop("audit_items")
            need["audit_items"] = (demo_id("audit", link["audit"]), list(link["items"]))
        out.append(need)
    return out


def _alignment_grid() -> dict[str, Any]:
    return AlignmentGrid.model_validate(CONTENT["alignment_plan"]["grid"]).model_dump()


def _cpd_rows(start_year: int) -> list[tuple[uuid.UUID, date, str, str, str, str]]:
    return [
        (
            demo_id("need", row["need"]),
            date(start_year + row["year"], row["month"], 1),
            row["activity"],
            row["responsible"],
            row["cost"],
            row["funding_source"],
        )
        for row in CONTENT["cpd_plan"]["rows"]
    ]


async def seed_planning_demo(session: AsyncSession) -> bool:
    """Adds the demo needs (with their ``audit.need.recorded`` events), Northfield's alignment
    plan and CPD plan. Does nothing (returns False) when they are already there."""
    if await session.scalar(select(Need.id).where(Need.id == NEED_WRITING)) is not None:
        return False
    for data in _needs():
        audit_id, item_keys = data.pop("audit_items", (None, []))
        need = Need(trust_id=OAKRIDGE, **data)
        session.add(need)
        session.add_all(
            NeedAuditItem(need_id=need.id, audit_id=audit_id, item_key=key, position=i)
            for i, key in enumerate(item_keys)
        )
        events.add(
            session,
            catalogue.NeedRecorded(
                need_id=need.id,
                trust_id=OAKRIDGE,
                school_id=need.school_id,
                level=need.level,
                need_types=need.need_types,
                priority=need.priority,
                audit_id=audit_id,
                item_keys=item_keys,
            ),
        )
    start_year = current_start_year()
    session.add(
        AlignmentPlan(
            id=ALIGNMENT_PLAN,
            trust_id=OAKRIDGE,
            school_id=SCHOOLS[CONTENT["alignment_plan"]["school"]],
            start_year=start_year,
            title=CONTENT["alignment_plan"]["title"],
            notes=CONTENT["alignment_plan"]["notes"],
            grid=_alignment_grid(),
        )
    )
    session.add(
        CpdPlan(
            id=CPD_PLAN,
            trust_id=OAKRIDGE,
            school_id=SCHOOLS[CONTENT["cpd_plan"]["school"]],
            start_year=start_year,
            title=CONTENT["cpd_plan"]["title"],
            notes=CONTENT["cpd_plan"]["notes"],
        )
    )
    await session.flush()
    for need_id, month, activity, responsible, cost, source in _cpd_rows(start_year):
        session.add(
            CpdPlanRow(
                id=uuid.uuid5(CPD_PLAN, f"{need_id}:{month}:{activity}"),
                trust_id=OAKRIDGE,
                plan_id=CPD_PLAN,
                need_id=need_id,
                month=month,
                activity=activity,
                responsible=responsible,
                cost=Decimal(cost),
                funding_source=source,
            )
        )
    await session.flush()
    return True
