"""The demo trust's CPD offer, loaded from ``demo_offer.yaml`` through the service functions
(so the outbox holds the events real use would produce): programmes across the progression
ladder, a term of runs (each recorded as its activity), requests in every state and the
schools' budgets for this academic year."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.demo import load_demo
from cpd_demo import trust as demo_data
from cpd_demo.trust import principal_of
from cpd_evaluation.budgets import service as budgets_service
from cpd_evaluation.cpd_requests import service as requests_service
from cpd_evaluation.cpd_requests.schemas import Decision, RequestCreate
from cpd_evaluation.models.offer import Programme
from cpd_evaluation.models.voice import Provider
from cpd_evaluation.programmes import service as programmes_service
from cpd_evaluation.programmes.schemas import ProgrammeCreate, RunCreate, RunSessionIn
from cpd_evaluation.records.years import AcademicYear

LONDON = ZoneInfo("Europe/London")
SCHOOLS = {"northfield": demo_data.NORTHFIELD, "southbank": demo_data.SOUTHBANK}


@cache
def content() -> dict[str, Any]:
    loaded: dict[str, Any] = load_demo("cpd_evaluation", "demo_offer.yaml")
    return loaded


def people() -> set[str]:
    """Demo keys of everyone the offer's demo names (requesters and deciders)."""
    return {r["who"] for r in content()["requests"]} | {"admin", "n-head", "s-head"}


def _decider(requester: str, trust_funded: bool) -> Principal:
    if trust_funded:
        return principal_of("admin")
    school = demo_data.PEOPLE_BY_KEY[requester].school_ids[0]
    return principal_of("n-head" if school == demo_data.NORTHFIELD else "s-head")


def _session(spec: dict[str, Any]) -> RunSessionIn:
    day = datetime.now(UTC).date() + timedelta(days=int(spec["in"]))
    hour, minute = (int(x) for x in str(spec["at"]).split(":"))
    starts = datetime.combine(day, time(hour, minute), LONDON)
    return RunSessionIn(
        starts_at=starts,
        ends_at=starts + timedelta(hours=float(spec["hours"])),
        place=spec.get("place"),
        link=spec.get("link"),
    )


async def seed_offer(session: AsyncSession) -> None:
    """Adds the offer unless it is there already. Never commits."""
    c = content()
    first = c["programmes"][0]["title"]
    if await session.scalar(
        select(Programme.id).where(
            Programme.trust_id == demo_data.OAKRIDGE, Programme.title == first
        )
    ):
        return
    admin = principal_of("admin")
    providers = {
        p.name: p.id
        for p in await session.scalars(
            select(Provider).where(Provider.trust_id == demo_data.OAKRIDGE)
        )
    }
    runs: dict[str, tuple[Any, bool]] = {}
    for spec in c["programmes"]:
        fields = {k: v for k, v in spec.items() if k not in ("key", "provider", "runs")}
        programme = await programmes_service.create_programme(
            session,
            principal=admin,
            data=ProgrammeCreate(provider_id=providers.get(spec.get("provider", "")), **fields),
        )
        for run_spec in spec["runs"]:
            run = await programmes_service.publish_run(
                session,
                programme,
                principal=admin,
                data=RunCreate(
                    capacity=run_spec["capacity"],
                    sessions=[_session(s) for s in run_spec["sessions"]],
                ),
            )
            runs.setdefault(spec["key"], (run, programme.trust_funded))
    for r in c["requests"]:
        who = principal_of(r["who"])
        if "study" in r:
            study = r["study"]
            start = datetime.now(UTC).date() + timedelta(days=int(study["in"]))
            data = RequestCreate(
                kind="study",
                institution=study["institution"],
                course=study["course"],
                starts_on=start,
                ends_on=start + timedelta(days=int(study["days"])),
                cost=Decimal(study["cost"]),
                time_off_days=Decimal(str(study.get("time_off_days", 0))),
                rationale=r.get("rationale"),
            )
            trust_funded = False
        else:
            run, trust_funded = runs[r["programme"]]
            data = RequestCreate(kind="place", run_id=run.id, rationale=r.get("rationale"))
        request = await requests_service.submit(session, principal=who, data=data)
        decider = _decider(r["who"], trust_funded)
        if r["status"] in ("approved", "cancelled"):
            await requests_service.decide(
                session, request, principal=decider, data=Decision(decision="approve")
            )
        if r["status"] == "declined":
            await requests_service.decide(
                session,
                request,
                principal=decider,
                data=Decision(decision="decline", reason=r["reason"]),
            )
        if r["status"] == "cancelled":
            await requests_service.cancel(session, request, principal=who, reason=None)
    year = AcademicYear.containing(datetime.now(UTC).date())
    for school, amount in c["budgets"].items():
        await budgets_service.set_budget(session, admin, SCHOOLS[school], year, Decimal(amount))
