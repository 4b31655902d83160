"""Coaching and mentoring, walled off from appraisal.

A coaching, mentoring or peer-coaching activity has one agreement between a coach and a
coachee (the outcomes they agreed) and a learning log of their sessions: date, minutes, focus,
the evidence they looked at, next steps and the impact noted. Only the pair reads either: to
anyone else (leaders and trust admins included) they answer 404, exactly as if they did not
exist. Everyone who reads the activity sees its cadence: that coaching happens and how often.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, scalar_or_raise, utcnow
from cpd_evaluation.activities.access import ensure_active
from cpd_evaluation.coaching.errors import (
    AgreementExists,
    CoachingLogNotFound,
    InvalidCoaching,
    NotCoaching,
    PairOnly,
)
from cpd_evaluation.coaching.schemas import (
    AgreementCreate,
    CoachingCadence,
    CoachingSessionCreate,
    CoachingSessionUpdate,
)
from cpd_evaluation.membership import participation_of
from cpd_evaluation.models import Activity
from cpd_evaluation.models.voice import CoachingAgreement, CoachingSession
from cpd_evaluation.terms.voice import COACHING_KINDS


def ensure_coaching(activity: Activity) -> None:
    if activity.kind not in COACHING_KINDS:
        raise NotCoaching(
            "A coaching agreement and learning log belong to coaching, mentoring or peer "
            "coaching activities."
        )


async def create_agreement(
    session: AsyncSession, activity: Activity, *, principal: Principal, data: AgreementCreate
) -> CoachingAgreement:
    ensure_coaching(activity)
    ensure_active(activity)
    if principal.person_id not in (data.coach_id, data.coachee_id):
        raise PairOnly(
            "The coach or the coachee records the agreement: it is theirs, not the school's."
        )
    errors = [
        {"loc": f"body.{field}", "msg": "not a participant of this activity"}
        for field, person in (("coach_id", data.coach_id), ("coachee_id", data.coachee_id))
        if await participation_of(session, activity, person) is None
    ]
    if errors:
        raise InvalidCoaching(
            "The coach and the coachee must both take part in the activity.", errors=errors
        )
    agreement = CoachingAgreement(
        activity_id=activity.id,
        trust_id=activity.trust_id,
        coach_id=data.coach_id,
        coachee_id=data.coachee_id,
        agreed_outcomes=data.agreed_outcomes,
    )
    async with one_of_a_kind(
        session, AgreementExists("This activity already has its agreement; change that one.")
    ):
        session.add(agreement)
        await session.flush()
    return agreement


async def pair_agreement(
    session: AsyncSession, activity_id: uuid.UUID, *, principal: Principal, lock: bool = False
) -> CoachingAgreement:
    """The agreement when the caller is its coach or coachee; 404 for everyone else."""
    if principal.person_id is None:
        raise CoachingLogNotFound()
    stmt = select(CoachingAgreement).where(
        CoachingAgreement.activity_id == activity_id,
        CoachingAgreement.trust_id == principal.trust_id,
        or_(
            CoachingAgreement.coach_id == principal.person_id,
            CoachingAgreement.coachee_id == principal.person_id,
        ),
    )
    if lock:
        stmt = stmt.with_for_update()
    return await scalar_or_raise(session, stmt, CoachingLogNotFound)


async def update_agreement(
    session: AsyncSession, agreement: CoachingAgreement, *, agreed_outcomes: str
) -> CoachingAgreement:
    agreement.agreed_outcomes = agreed_outcomes
    agreement.updated_at = utcnow()
    await session.flush()
    return agreement


def log_query(agreement: CoachingAgreement) -> Select[Any]:
    return select(CoachingSession).where(CoachingSession.activity_id == agreement.activity_id)


async def get_log_entry(
    session: AsyncSession, agreement: CoachingAgreement, entry_id: uuid.UUID
) -> CoachingSession:
    return await scalar_or_raise(
        session, log_query(agreement).where(CoachingSession.id == entry_id), CoachingLogNotFound
    )


async def add_log_entry(
    session: AsyncSession, agreement: CoachingAgreement, *, data: CoachingSessionCreate
) -> CoachingSession:
    entry = CoachingSession(
        activity_id=agreement.activity_id,
        trust_id=agreement.trust_id,
        **data.model_dump(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def update_log_entry(
    session: AsyncSession, entry: CoachingSession, *, data: CoachingSessionUpdate
) -> CoachingSession:
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(entry, name, value)
    if entry.next_session_on is not None and entry.next_session_on < entry.held_on:
        raise InvalidCoaching(
            "The next session cannot be before this one.",
            errors=[{"loc": "body.next_session_on", "msg": "before held_on"}],
        )
    entry.updated_at = utcnow()
    await session.flush()
    return entry


async def delete_log_entry(
    session: AsyncSession, entry: CoachingSession, *, agreement: CoachingAgreement
) -> None:
    """The entry goes; its tombstone only to the pair who could read it."""
    await tombstones.delete(
        session,
        entry,
        parent_id=entry.activity_id,
        visible_to=[agreement.coach_id, agreement.coachee_id],
    )


async def cadence(session: AsyncSession, activity: Activity) -> CoachingCadence:
    """One round trip: counts, minutes and the gaps between consecutive sessions."""
    gaps = (
        select(
            CoachingSession.held_on.label("held_on"),
            CoachingSession.minutes.label("minutes"),
            (
                CoachingSession.held_on
                - func.lag(CoachingSession.held_on).over(
                    order_by=(CoachingSession.held_on, CoachingSession.id)
                )
            ).label("gap"),
        )
        .where(CoachingSession.activity_id == activity.id)
        .subquery()
    )
    agreed = (
        select(func.count()).where(CoachingAgreement.activity_id == activity.id).scalar_subquery()
    )
    row = (
        await session.execute(
            select(
                func.count(gaps.c.held_on),
                func.coalesce(func.sum(gaps.c.minutes), 0),
                func.round(func.avg(gaps.c.gap), 1),
                func.max(gaps.c.gap),
                func.min(gaps.c.held_on),
                func.max(gaps.c.held_on),
                agreed,
            )
        )
    ).one()
    count, minutes, mean_gap, longest, first, last, agreements = row
    return CoachingCadence(
        activity_id=activity.id,
        agreement_in_place=bool(agreements),
        sessions=int(count),
        minutes=int(minutes),
        mean_days_between=float(mean_gap) if mean_gap is not None else None,
        longest_gap_days=int(longest) if longest is not None else None,
        first_session_on=first,
        last_session_on=last,
    )
