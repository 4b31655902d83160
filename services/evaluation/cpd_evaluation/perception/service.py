"""A plan's staff-perception pair: which closed audit round is its baseline and which later
round of the same instrument its outcome (rounds known from ``audit.audit.closed`` events, see
:func:`cpd_evaluation.projections.audit_closed`). The per-item change itself is computed from
the rounds' released aggregates by :mod:`cpd_evaluation.impact`; items an audit withheld stay
withheld."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.schemas import from_row
from cpd_evaluation.models.measures import AuditRound, PlanAuditRounds
from cpd_evaluation.models.plans import EvaluationPlan
from cpd_evaluation.perception.errors import InvalidAuditRounds, NoAuditRounds
from cpd_evaluation.perception.schemas import AuditRoundsRead, AuditRoundsSet, RoundRead


def _may_use(principal: Principal, round_: AuditRound) -> bool:
    """Trust admins use any round of the trust; a leader a trust-wide round (its aggregates
    are the trust total, which they see) or one covering a school they lead."""
    if principal.is_trust_admin or round_.scope_kind == "trust":
        return True
    return principal.has_any("school_leader") and not principal.school_ids.isdisjoint(
        round_.school_ids
    )


async def set_rounds(
    session: AsyncSession, plan: EvaluationPlan, *, principal: Principal, data: AuditRoundsSet
) -> PlanAuditRounds:
    """``plan`` was fetched for writing (locked) by the caller."""
    found = {
        r.audit_id: r
        for r in await session.scalars(
            select(AuditRound).where(
                AuditRound.audit_id.in_([data.baseline_audit_id, data.outcome_audit_id]),
                AuditRound.trust_id == plan.trust_id,
            )
        )
    }
    errors = []
    for field in ("baseline_audit_id", "outcome_audit_id"):
        round_ = found.get(getattr(data, field))
        if round_ is None or not _may_use(principal, round_):
            errors.append({"loc": f"body.{field}", "msg": "not a closed audit round you can use"})
    if errors:
        raise InvalidAuditRounds(
            "Name closed audit rounds of your trust (trust-wide, or of a school you lead).",
            errors=errors,
        )
    baseline, outcome = found[data.baseline_audit_id], found[data.outcome_audit_id]
    if baseline.audit_id == outcome.audit_id:
        errors.append({"loc": "body.outcome_audit_id", "msg": "the same round as the baseline"})
    elif baseline.instrument_id != outcome.instrument_id:
        errors.append(
            {
                "loc": "body.outcome_audit_id",
                "msg": "a round of another instrument than the "
                "baseline's: items can only be compared within one instrument",
            }
        )
    elif outcome.closed_at <= baseline.closed_at:
        errors.append({"loc": "body.outcome_audit_id", "msg": "closed before the baseline round"})
    if errors:
        raise InvalidAuditRounds(
            "The outcome must be a later round of the baseline's instrument.", errors=errors
        )
    values = {
        "plan_id": plan.id,
        "trust_id": plan.trust_id,
        "baseline_audit_id": baseline.audit_id,
        "outcome_audit_id": outcome.audit_id,
        "set_by": principal.person_id,
        "updated_at": utcnow(),
    }
    stmt = insert(PlanAuditRounds).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["plan_id"],
            set_={k: stmt.excluded[k] for k in values if k not in ("plan_id", "trust_id")},
        )
    )
    pair = await session.get(PlanAuditRounds, plan.id, populate_existing=True)
    assert pair is not None
    return pair


async def get_rounds(session: AsyncSession, plan: EvaluationPlan) -> PlanAuditRounds:
    pair = await session.scalar(
        select(PlanAuditRounds).where(
            PlanAuditRounds.plan_id == plan.id, PlanAuditRounds.trust_id == plan.trust_id
        )
    )
    if pair is None:
        raise NoAuditRounds(
            "The plan names no baseline and outcome audit rounds; "
            "PUT them to /v1/evaluations/{id}/audit-rounds."
        )
    return pair


async def clear_rounds(session: AsyncSession, pair: PlanAuditRounds) -> None:
    await session.delete(pair)
    await session.flush()


async def rounds_read(session: AsyncSession, pair: PlanAuditRounds) -> AuditRoundsRead:
    rounds: dict[uuid.UUID, AuditRound] = {
        r.audit_id: r
        for r in await session.scalars(
            select(AuditRound).where(
                AuditRound.audit_id.in_([pair.baseline_audit_id, pair.outcome_audit_id])
            )
        )
    }
    return from_row(
        AuditRoundsRead,
        pair,
        baseline=RoundRead.model_validate(rounds[pair.baseline_audit_id]),
        outcome=RoundRead.model_validate(rounds[pair.outcome_audit_id]),
    )
