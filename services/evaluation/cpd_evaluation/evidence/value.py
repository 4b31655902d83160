"""Value for money of an evaluated activity or programme.

Costs are what the plan's activities recorded (fees, materials, supply cover), plus staff time:
the participants' hours (counted as everywhere else, :mod:`cpd_evaluation.participants.hours`)
x the trust's hourly staff cost. Facilitators are not participants here (their cost is in the
fees when they are bought in); cancelled activities count nothing. Each figure is divided by
participants, participant hours and pupils reached, and, for each pupil measure whose impact
has an effect size, priced per pupil for each 0.1 standard deviation of improvement.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.evaluation_settings.service import hourly_staff_cost
from cpd_evaluation.evidence.schemas import Costs, EffectValue, ValueForMoney
from cpd_evaluation.impact import service as impact_service
from cpd_evaluation.impact import stats
from cpd_evaluation.models import Activity, Participant
from cpd_evaluation.models.plans import EvaluationPlan, EvaluationPlanActivity
from cpd_evaluation.participants.hours import hours_subquery

CENT = Decimal("0.01")
TENTH_SD = Decimal("0.1")


def money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _per(total: Decimal, by: Decimal | int | None) -> float | None:
    if not by:
        return None
    return money(total / Decimal(by))


async def value_for_money(session: AsyncSession, plan: EvaluationPlan) -> ValueForMoney:
    in_plan = select(EvaluationPlanActivity.activity_id).where(
        EvaluationPlanActivity.plan_id == plan.id
    )
    active = Activity.status == "active"
    fees, materials, cover, counted, cancelled = (
        await session.execute(
            select(
                func.coalesce(func.sum(Activity.fees).filter(active), 0),
                func.coalesce(func.sum(Activity.materials_cost).filter(active), 0),
                func.coalesce(func.sum(Activity.supply_cover_cost).filter(active), 0),
                func.count().filter(active),
                func.count().filter(~active),
            ).where(Activity.id.in_(in_plan))
        )
    ).one()
    hours_q = hours_subquery(
        Participant.activity_id.in_(in_plan), Participant.role != "facilitator"
    )
    participants, hours = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(hours_q.c.hours), 0))
            .select_from(hours_q)
            .join(Activity, Activity.id == hours_q.c.activity_id)
            .where(active)
        )
    ).one()
    fees, materials, cover, hours = (Decimal(v) for v in (fees, materials, cover, hours))
    direct = fees + materials + cover
    rate = await hourly_staff_cost(session, plan.trust_id)
    staff_time = hours * rate if rate is not None else None
    total = direct + (staff_time or Decimal(0))
    notes: list[str] = []
    if rate is None:
        notes.append(
            "Staff time is not costed: the trust has not set an hourly staff cost "
            "(/v1/evaluation-settings), so the total covers direct costs only."
        )
    if cancelled:
        notes.append(
            f"{cancelled} cancelled activit{'y counts' if cancelled == 1 else 'ies count'} nothing."
        )
    if plan.pupils_reached is None:
        notes.append("The plan does not say how many pupils the CPD reaches (pupils_reached).")
    per_pupil = _per(total, plan.pupils_reached)
    effects = await _effects(
        session,
        plan,
        per_pupil=total / Decimal(plan.pupils_reached) if plan.pupils_reached else None,
    )
    return ValueForMoney(
        evaluation_id=plan.id,
        costs=Costs(
            fees=money(fees),
            materials=money(materials),
            supply_cover=money(cover),
            direct=money(direct),
            participant_hours=float(hours),
            hourly_staff_cost=money(rate) if rate is not None else None,
            staff_time=money(staff_time) if staff_time is not None else None,
            total=money(total),
            includes_staff_time=rate is not None,
        ),
        activities=int(counted),
        participants=int(participants),
        pupils_reached=plan.pupils_reached,
        per_participant=_per(total, int(participants)),
        per_participant_hour=_per(total, hours),
        per_pupil=per_pupil,
        effects=effects,
        effects_reason=None
        if effects
        else "No effect size to price: no pupil measure has values at the baseline and a later "
        f"point for at least {stats.MIN_SUBJECTS} pupils (see /impact).",
        notes=notes,
    )


async def _effects(
    session: AsyncSession, plan: EvaluationPlan, *, per_pupil: Decimal | None
) -> list[EffectValue]:
    """Each pupil measure's change from the baseline that has an effect size, priced."""
    impact = await impact_service.plan_impact(session, plan)
    out: list[EffectValue] = []
    for measure in impact.measures:
        if measure.subjects != "pupils":
            continue
        for comparison in measure.comparisons:
            effect = comparison.effect_size
            if effect is None or comparison.from_phase != "baseline":
                continue
            improvement = effect.value if measure.higher_is_better else -effect.value
            cost, reason = price_effect(per_pupil=per_pupil, improvement=improvement)
            out.append(
                EffectValue(
                    measure_id=measure.measure_id,
                    name=measure.name,
                    from_phase=comparison.from_phase,
                    to_phase=comparison.to_phase,
                    design=comparison.design,
                    effect_size=effect.value,
                    ci_low=effect.ci_low,
                    ci_high=effect.ci_high,
                    improvement=improvement,
                    interval_includes_zero=effect.ci_low <= 0 <= effect.ci_high,
                    cost_per_pupil_per_tenth_sd=cost,
                    reason=reason,
                )
            )
    return out


def price_effect(
    *, per_pupil: Decimal | None, improvement: float
) -> tuple[float | None, str | None]:
    """Cost per pupil for each 0.1 SD of improvement, or why there is none."""
    if per_pupil is None:
        return None, "Pupils reached is not known, so there is no cost per pupil."
    if improvement <= 0:
        return None, "No improvement to price: the change is zero or in the wrong direction."
    return money(per_pupil / (Decimal(str(improvement)) / TENTH_SD)), None
