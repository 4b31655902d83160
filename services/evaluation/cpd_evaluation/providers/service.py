"""Providers of CPD: in-house, a teaching school or hub, external; the school's answers to
the four questions to ask of any provider; and what the trust had from each (activities,
participants, hours, cost per participant hour, feedback)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, scalar_or_raise, utcnow, where_given
from cpd_common.schemas import from_row
from cpd_evaluation.feedback import service as feedback_service
from cpd_evaluation.models import Activity, Participant
from cpd_evaluation.models.voice import Feedback, FeedbackWindow, Provider
from cpd_evaluation.participants.hours import hours_subquery
from cpd_evaluation.providers.errors import (
    CannotManageProviders,
    ProviderInUse,
    ProviderNameTaken,
    ProviderNotFound,
    UnknownProvider,
)
from cpd_evaluation.providers.schemas import (
    EVIDENCE,
    FOLLOW_UP,
    IMPACT,
    QUALITY,
    ProviderCreate,
    ProviderFeedback,
    ProviderRead,
    ProviderSummary,
    ProviderUpdate,
    Question,
)
from cpd_evaluation.terms.voice import MIN_GROUP

QUESTIONS = (
    ("evidence", EVIDENCE),
    ("follow_up", FOLLOW_UP),
    ("impact_evaluation", IMPACT),
    ("quality_corroboration", QUALITY),
)
NAME_TAKEN = "Your trust already has a provider of that name; change that one."


def ensure_manager(principal: Principal) -> None:
    if not principal.has_any("trust_admin", "school_leader"):
        raise CannotManageProviders("Leaders and trust admins record and change providers.")


def provider_read(provider: Provider) -> ProviderRead:
    questions = [
        Question(key=key, question=text, answer=getattr(provider, key)) for key, text in QUESTIONS
    ]
    return from_row(
        ProviderRead,
        provider,
        questions=questions,
        unanswered=sum(1 for q in questions if not q.answer),
    )


def list_query(*, principal: Principal, kind: str | None = None) -> Select[Any]:
    stmt = select(Provider).where(Provider.trust_id == principal.trust_id)
    stmt = where_given(stmt, (Provider.kind, kind))
    return stmt


async def get_provider(
    session: AsyncSession, provider_id: uuid.UUID, *, principal: Principal, lock: bool = False
) -> Provider:
    stmt = select(Provider).where(
        Provider.id == provider_id, Provider.trust_id == principal.trust_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return await scalar_or_raise(session, stmt, ProviderNotFound)


async def check_provider(
    session: AsyncSession, provider_id: uuid.UUID | None, *, trust_id: uuid.UUID
) -> None:
    """An activity names a provider of its own trust (422 otherwise)."""
    if provider_id is None:
        return
    found = await session.scalar(
        select(Provider.id).where(Provider.id == provider_id, Provider.trust_id == trust_id)
    )
    if found is None:
        raise UnknownProvider(
            "The provider must be one of your trust's providers (/v1/providers).",
            errors=[{"loc": "body.provider_id", "msg": "unknown provider"}],
        )


async def create_provider(
    session: AsyncSession, *, principal: Principal, data: ProviderCreate
) -> Provider:
    ensure_manager(principal)
    provider = Provider(trust_id=principal.trust_id, **data.model_dump())
    async with one_of_a_kind(session, ProviderNameTaken(NAME_TAKEN)):
        session.add(provider)
        await session.flush()
    return provider


async def update_provider(
    session: AsyncSession, provider: Provider, *, principal: Principal, data: ProviderUpdate
) -> Provider:
    ensure_manager(principal)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "kind"):
        if name in changes and changes[name] is None:
            raise UnknownProvider(
                f"{name} cannot be null.", errors=[{"loc": f"body.{name}", "msg": "required"}]
            )
    async with one_of_a_kind(session, ProviderNameTaken(NAME_TAKEN)):
        for name, value in changes.items():
            setattr(provider, name, value)
        provider.updated_at = utcnow()
        await session.flush()
    return provider


async def delete_provider(
    session: AsyncSession, provider: Provider, *, principal: Principal
) -> None:
    ensure_manager(principal)
    used = await session.scalar(select(exists().where(Activity.provider_id == provider.id)))
    if used:
        raise ProviderInUse(
            "Activities name this provider; they keep it as their record. Change those "
            "activities first, or keep the provider."
        )
    await tombstones.delete(session, provider)


async def summary(session: AsyncSession, provider: Provider) -> ProviderSummary:
    """Three round trips: activities and cost; participants and hours; released feedback."""
    of_provider = and_(
        Activity.provider_id == provider.id,
        Activity.trust_id == provider.trust_id,
        Activity.status != "cancelled",
    )
    activities, cost = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(
                    func.sum(Activity.fees + Activity.materials_cost + Activity.supply_cover_cost),
                    0,
                ),
            ).where(of_provider)
        )
    ).one()
    hours = hours_subquery(Participant.activity_id.in_(select(Activity.id).where(of_provider)))
    participants, total_hours = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(hours.c.hours), 0)).select_from(hours)
        )
    ).one()
    # Only activities whose own results were released (closed, at least MIN_GROUP answers):
    # otherwise a summary read before and after one small activity closes would show its
    # answers by difference.
    released = (
        select(Feedback.activity_id)
        .join(FeedbackWindow, FeedbackWindow.activity_id == Feedback.activity_id)
        .join(Activity, Activity.id == Feedback.activity_id)
        .where(of_provider, FeedbackWindow.closes_at <= utcnow())
        .group_by(Feedback.activity_id)
        .having(func.count() >= MIN_GROUP)
    )
    row = (
        await session.execute(feedback_service.rating_columns(Feedback.activity_id.in_(released)))
    ).one()
    responses = int(row.n)
    if responses >= MIN_GROUP:
        fb = ProviderFeedback(
            responses=responses, released=True, **feedback_service.ratings_from(row)
        )
    else:
        fb = ProviderFeedback(
            responses=responses,
            released=False,
            withheld_reason=f"Feedback is shown once at least {MIN_GROUP} responses from "
            "activities with released results are in.",
        )
    hours_f = float(total_hours)
    return ProviderSummary(
        provider_id=provider.id,
        activities=int(activities),
        participants=int(participants),
        hours=round(hours_f, 2),
        total_cost=float(cost),
        cost_per_participant_hour=round(float(cost) / hours_f, 2) if hours_f else None,
        feedback=fb,
    )
