"""An activity's sessions: replacing them from a create or a PATCH, and keeping the
activity's first and last session dates in step."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_evaluation.activities.errors import InvalidActivity
from cpd_evaluation.activities.schemas import SessionIn
from cpd_evaluation.models import Activity, ActivitySession


async def refresh_span(session: AsyncSession, activity: Activity) -> None:
    """Keeps the first and last session dates on the activity (filters and the SQL form of
    sustained/one-off read them)."""
    await session.flush()
    first, last = (
        await session.execute(
            select(func.min(ActivitySession.held_on), func.max(ActivitySession.held_on)).where(
                ActivitySession.activity_id == activity.id
            )
        )
    ).one()
    activity.starts_on, activity.ends_on = first, last


async def replace_sessions(
    session: AsyncSession, activity: Activity, sessions: list[SessionIn]
) -> None:
    current = {
        s.id: s
        for s in await session.scalars(
            select(ActivitySession).where(ActivitySession.activity_id == activity.id)
        )
    }
    unknown = [i for i, s in enumerate(sessions) if s.id is not None and s.id not in current]
    if unknown:
        raise InvalidActivity(
            "A session id must be one of the activity's sessions (leave it out to add one).",
            errors=[{"loc": f"body.sessions.{i}.id", "msg": "unknown session"} for i in unknown],
        )
    kept = {s.id for s in sessions if s.id is not None}
    gone = [sid for sid in current if sid not in kept]
    if gone:
        await session.execute(delete(ActivitySession).where(ActivitySession.id.in_(gone)))
    for s in sessions:
        if s.id is None:
            session.add(
                ActivitySession(
                    activity_id=activity.id,
                    trust_id=activity.trust_id,
                    title=s.title,
                    held_on=s.held_on,
                    duration_minutes=s.duration_minutes,
                )
            )
        else:
            row = current[s.id]
            row.title, row.held_on, row.duration_minutes = s.title, s.held_on, s.duration_minutes
    await refresh_span(session, activity)
