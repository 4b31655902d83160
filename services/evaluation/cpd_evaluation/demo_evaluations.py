"""The demo's evaluated programmes (``evaluations`` in ``demo.yaml``): plans over demo
activities, organisational support, measures with baseline and outcome data, the trust's
hourly staff cost, and each plan moved on to its status, all through the service functions
as the API would write them (so the outbox holds the events, e.g. ``evaluation.reported``).

Pupil values are drawn from the distribution the YAML states with a fixed seed: the same
data on every run, pseudonymised on the way in like any upload."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_demo import trust as demo_data
from cpd_demo.trust import days_ago, principal_of
from cpd_evaluation.evaluation_settings import service as settings_service
from cpd_evaluation.evaluation_settings.schemas import SettingsIn
from cpd_evaluation.evaluations import service as plans_service
from cpd_evaluation.evaluations.schemas import (
    DataSet,
    DesignCheck,
    DueDates,
    PlanCreate,
    PlanUpdate,
)
from cpd_evaluation.measures import service as measures_service
from cpd_evaluation.measures.schemas import MeasureCreate, Scale
from cpd_evaluation.models import Activity
from cpd_evaluation.models.plans import EvaluationPlan
from cpd_evaluation.observations import pseudonyms, rows
from cpd_evaluation.observations import service as observations_service
from cpd_evaluation.observations.schemas import ObservationIn
from cpd_evaluation.support import service as support_service
from cpd_evaluation.support.schemas import SupportCreate


def people(content: dict[str, Any]) -> set[str]:
    keys: set[str] = {"admin"}
    for e in content.get("evaluations", []):
        keys |= {e["recorded_by"], e["responsible"]}
        for m in e["measures"]:
            keys |= set(m.get("staff", {}))
    return keys


async def seed_evaluations(session: AsyncSession, content: dict[str, Any]) -> None:
    """Adds the demo's evaluated programmes (the caller checked the demo is not there yet)."""
    await settings_service.set_settings(
        session,
        principal=principal_of("admin"),
        data=SettingsIn(hourly_staff_cost=Decimal(str(content["hourly_staff_cost"]))),
    )
    for e in content["evaluations"]:
        await _evaluation(session, e)


async def _evaluation(session: AsyncSession, e: dict[str, Any]) -> None:
    leader = principal_of(e["recorded_by"])
    titles = e["activities"]
    found = dict(
        (
            await session.execute(
                select(Activity.title, Activity.id).where(
                    Activity.trust_id == leader.trust_id, Activity.title.in_(titles)
                )
            )
        ).all()
    )
    due = e["due_ago"]
    plan = await plans_service.create_plan(
        session,
        principal=leader,
        data=PlanCreate(
            title=e["title"],
            activity_ids=[found[t] for t in titles],
            design_check=DesignCheck(
                reaches_pupil_outcomes=e["reaches_pupil_outcomes"], note=e["design_note"]
            ),
            short_term_outcome=e["short_term_outcome"],
            medium_term_outcome=e["medium_term_outcome"],
            baseline=DataSet(**e["baseline"]),
            short_term_data=DataSet(**e["short_term_data"]),
            medium_term_data=DataSet(**e["medium_term_data"]),
            reported_to=e["reported_to"],
            leads_to_action=e["leads_to_action"],
            levels=e["levels"],
            due=DueDates(**{point: days_ago(days) for point, days in due.items()}),
            responsible_id=demo_data.PEOPLE_BY_KEY[e["responsible"]].id,
            pupils_reached=e["pupils_reached"],
        ),
    )
    for s in e["support"]:
        await support_service.create_record(
            session,
            plan,
            principal=leader,
            data=SupportCreate(
                recorded_on=days_ago(s["ago"]),
                hours_given=Decimal(str(s["hours_given"])),
                resources=s["resources"],
                barriers=s["barriers"],
            ),
        )
    for m in e["measures"]:
        await _measure(session, plan, m, principal=leader)
    await plans_service.update_plan(
        session, plan, principal=leader, data=PlanUpdate(status=e["status"])
    )


async def _measure(
    session: AsyncSession, plan: EvaluationPlan, m: dict[str, Any], *, principal: Principal
) -> None:
    measure = await measures_service.create_measure(
        session,
        plan,
        principal=principal,
        data=MeasureCreate(
            name=m["name"],
            kind=m["kind"],
            subjects=m["subjects"],
            scale=Scale(**m["scale"]),
            higher_is_better=m.get("higher_is_better", True),
        ),
    )
    observations = _pupil_values(m) if m["subjects"] == "pupils" else _staff_values(m)
    secret = b""
    if measure.subjects == "pupils":
        secret = await pseudonyms.trust_secret(session, measure.trust_id)
    problems = rows.Problems(rows.json_loc)
    read = rows.read_batch(observations, rows.RowReader(measure, secret, problems))
    await observations_service.store(
        session, measure, read, problems=problems, replace=False, what="observation"
    )


def _bounded(values: np.ndarray, scale: dict[str, Any]) -> np.ndarray:
    rounded: np.ndarray = np.round(values)
    return np.clip(rounded, scale.get("min"), scale.get("max"))


def _pupil_values(m: dict[str, Any]) -> list[ObservationIn]:
    """The same pupils at the baseline and later (``lost`` of them not measured later)."""
    p, base, later = m["pupils"], m["baseline"], m["later"]
    rng = np.random.default_rng(p["seed"])
    n = p["n"]
    before = _bounded(rng.normal(base["mean"], base["sd"], n), m["scale"])
    after = _bounded(before + rng.normal(later["change"], later["change_sd"], n), m["scale"])
    disadvantaged = rng.random(n) < p["disadvantaged"]
    send = rng.random(n) < p["send"]
    out: list[ObservationIn] = []
    for i in range(n):
        flags: dict[str, Any] = {
            "pupil_id": f"{p['prefix']}{i + 1:04d}",
            "disadvantaged": bool(disadvantaged[i]),
            "send": bool(send[i]),
            "year_group": p["year_group"],
        }
        out.append(
            ObservationIn(
                **flags,
                phase="baseline",
                value=Decimal(str(before[i])),
                observed_on=days_ago(base["ago"]),
            )
        )
        if i < n - p["lost"]:
            out.append(
                ObservationIn(
                    **flags,
                    phase=later["phase"],
                    value=Decimal(str(after[i])),
                    observed_on=days_ago(later["ago"]),
                )
            )
    return out


def _staff_values(m: dict[str, Any]) -> list[ObservationIn]:
    return [
        ObservationIn(
            person_id=demo_data.PEOPLE_BY_KEY[key].id,
            phase=phase["phase"],
            value=Decimal(str(values[i])),
            observed_on=days_ago(phase["ago"]),
        )
        for key, values in m["staff"].items()
        for i, phase in enumerate(m["phases"])
    ]


async def demo_plans(session: AsyncSession, content: dict[str, Any]) -> dict[str, uuid.UUID]:
    """The demo plans' ids by title (for tests and the printed tour)."""
    titles = [e["title"] for e in content.get("evaluations", [])]
    return dict(
        (
            await session.execute(
                select(EvaluationPlan.title, EvaluationPlan.id).where(
                    EvaluationPlan.trust_id == demo_data.OAKRIDGE,
                    EvaluationPlan.title.in_(titles),
                )
            )
        ).all()
    )
