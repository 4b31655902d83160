"""Participant feedback (evaluation level 1): each participant once, released to everyone else
only as aggregates, after the activity's feedback window closes and when at least
:data:`MIN_GROUP` responded (DESIGN.md 7: no differencing over time, small groups withheld).

The window opens at the first session and closes :data:`FEEDBACK_WINDOW_DAYS` days after the
last one, unless a leader sets it. The first feedback (or the leader) stores the closing time,
so a closed window never reopens when sessions change later, and no feedback arrives after
results are released: what was released is final.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import one_of_a_kind, utcnow
from cpd_evaluation.activities.access import ensure_active
from cpd_evaluation.feedback.errors import (
    AlreadyGiven,
    FeedbackClosed,
    FeedbackNotFound,
    ParticipantsOnly,
)
from cpd_evaluation.feedback.schemas import (
    FeedbackCreate,
    FeedbackSummary,
    RatingSummary,
    WindowRead,
)
from cpd_evaluation.membership import participation_of
from cpd_evaluation.models import Activity, Participant
from cpd_evaluation.models.voice import Feedback, FeedbackWindow
from cpd_evaluation.terms.voice import FEEDBACK_WINDOW_DAYS, MIN_GROUP

RATINGS = ("relevance", "quality", "expected_impact")


def derived_close(activity: Activity) -> datetime | None:
    """Midnight (UTC) after the last day of the window that follows the last session."""
    if activity.ends_on is None:
        return None
    last_day = activity.ends_on + timedelta(days=FEEDBACK_WINDOW_DAYS)
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)


async def window_of(
    session: AsyncSession, activity: Activity, *, lock: str | None = None
) -> WindowRead:
    stmt = select(FeedbackWindow).where(FeedbackWindow.activity_id == activity.id)
    if lock == "share":
        stmt = stmt.with_for_update(read=True)
    elif lock == "update":
        stmt = stmt.with_for_update()
    stored = await session.scalar(stmt)
    closes_at = stored.closes_at if stored is not None else derived_close(activity)
    closed = closes_at is not None and closes_at <= utcnow()
    return WindowRead(
        activity_id=activity.id,
        closes_at=closes_at,
        status="closed" if closed else "open",
        fixed=stored is not None,
    )


async def give_feedback(
    session: AsyncSession, activity: Activity, *, principal: Principal, data: FeedbackCreate
) -> Feedback:
    ensure_active(activity)
    participant = await participation_of(session, activity, principal.person_id)
    if participant is None:
        raise ParticipantsOnly("Only people who took part in the activity give feedback on it.")
    today = utcnow().date()
    if activity.starts_on is None or activity.starts_on > today:
        raise FeedbackClosed("Feedback opens on the day of the activity's first session.")
    # Fix the closing time with the first feedback; a concurrent first feedback keeps the
    # one stored first. The share lock orders this insert after a leader's closing.
    closes_at = derived_close(activity) or utcnow() + timedelta(days=FEEDBACK_WINDOW_DAYS)
    await session.execute(
        insert(FeedbackWindow)
        .values(activity_id=activity.id, trust_id=activity.trust_id, closes_at=closes_at)
        .on_conflict_do_nothing(index_elements=["activity_id"])
    )
    window = await window_of(session, activity, lock="share")
    if window.status == "closed":
        raise FeedbackClosed(
            "The feedback window closed; results are released as they were when it closed."
        )
    feedback = Feedback(
        activity_id=activity.id,
        trust_id=activity.trust_id,
        participant_id=participant.id,
        relevance=data.relevance,
        quality=data.quality,
        expected_impact=data.expected_impact,
        will_do_differently=data.will_do_differently or None,
        comment=data.comment or None,
        given_on=today,
    )
    async with one_of_a_kind(
        session, AlreadyGiven("Each participant gives feedback once; yours is recorded.")
    ):
        session.add(feedback)
        await session.flush()
    return feedback


async def my_feedback(
    session: AsyncSession, activity: Activity, *, principal: Principal
) -> Feedback:
    participant = await participation_of(session, activity, principal.person_id)
    feedback = None
    if participant is not None:
        feedback = await session.scalar(
            select(Feedback).where(Feedback.participant_id == participant.id)
        )
    if feedback is None:
        raise FeedbackNotFound()
    return feedback


async def set_window(
    session: AsyncSession, activity: Activity, *, principal: Principal, closes_at: datetime
) -> WindowRead:
    """``activity`` was fetched for writing (a leader, a trust admin or its recorder)."""
    window = await window_of(session, activity, lock="update")
    if window.status == "closed":
        raise FeedbackClosed("A closed feedback window never reopens.")
    closes_at = max(closes_at, utcnow())
    stmt = insert(FeedbackWindow).values(
        activity_id=activity.id,
        trust_id=activity.trust_id,
        closes_at=closes_at,
        set_by=principal.person_id,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["activity_id"],
            set_={"closes_at": stmt.excluded.closes_at, "set_by": stmt.excluded.set_by},
        )
    )
    return await window_of(session, activity)


def rating_columns(*where: ColumnElement[bool]) -> Select[Any]:
    """One row: ``n``, and per rating its mean and how many gave 1 .. 5."""
    columns: list[Any] = [func.count().label("n")]
    for name in RATINGS:
        column = getattr(Feedback, name)
        columns.append(func.round(func.avg(column), 2).label(f"{name}_mean"))
        columns.extend(
            func.count().filter(column == value).label(f"{name}_{value}") for value in range(1, 6)
        )
    return select(*columns).where(*where)


def ratings_from(row: Any) -> dict[str, RatingSummary]:
    mapping = row._mapping
    return {
        name: RatingSummary(
            mean=float(mapping[f"{name}_mean"]),
            distribution=[int(mapping[f"{name}_{v}"]) for v in range(1, 6)],
        )
        for name in RATINGS
    }


async def summary(session: AsyncSession, activity: Activity) -> FeedbackSummary:
    window = await window_of(session, activity)
    row = (await session.execute(rating_columns(Feedback.activity_id == activity.id))).one()
    responses = int(row.n)
    participants = int(
        await session.scalar(select(func.count()).where(Participant.activity_id == activity.id))
        or 0
    )
    base = FeedbackSummary(
        activity_id=activity.id,
        status=window.status,
        closes_at=window.closes_at,
        responses=responses,
        participants=participants,
        min_group_size=MIN_GROUP,
        released=False,
    )
    if window.status == "open":
        base.withheld_reason = (
            "Feedback is open: only the number of responses is shown until the window closes, "
            "so no one can work out an answer by comparing readings."
        )
        return base
    if responses < MIN_GROUP:
        base.withheld_reason = (
            f"Only {responses} response{'s' if responses != 1 else ''}: results are shown "
            f"when at least {MIN_GROUP} people responded."
        )
        return base
    texts = (
        await session.execute(
            select(Feedback.will_do_differently, Feedback.comment).where(
                Feedback.activity_id == activity.id
            )
        )
    ).all()
    return base.model_copy(
        update={
            "released": True,
            **ratings_from(row),
            "will_do_differently": sorted(t[0] for t in texts if t[0]),
            "comments": sorted(t[1] for t in texts if t[1]),
        }
    )
