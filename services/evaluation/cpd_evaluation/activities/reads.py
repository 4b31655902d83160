"""The activity read model: the list's filters, reads of one or many activities in one
round trip (sessions, needs, participant count, derived sustained/one-off and costs), and
``evaluation.activity.recorded``, which carries the same view to the other services."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import where_given
from cpd_common.events import catalogue
from cpd_common.pagination import sort_param, text_search
from cpd_common.schemas import from_row
from cpd_evaluation.activities.access import visible_to
from cpd_evaluation.activities.errors import ActivityNotFound
from cpd_evaluation.activities.schemas import ActivityRead, CostsRead, SessionRead
from cpd_evaluation.activities.sustained import classify
from cpd_evaluation.models import Activity, ActivityNeed, ActivitySession, Participant


def list_query(
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    kind: str | None = None,
    provider_id: uuid.UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    need_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    q: str | None = None,
    status: str | None = None,
) -> Select[Any]:
    stmt = select(Activity).where(Activity.trust_id == principal.trust_id, visible_to(principal))
    if school_id is not None:
        stmt = stmt.where(Activity.school_ids.contains([school_id]))
    stmt = where_given(
        stmt, (Activity.kind, kind), (Activity.provider_id, provider_id), (Activity.status, status)
    )
    # An activity overlaps the range when its sessions do; one without sessions matches none.
    if date_from is not None:
        stmt = stmt.where(Activity.ends_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(Activity.starts_on <= date_to)
    if need_id is not None:
        stmt = stmt.where(
            exists().where(ActivityNeed.activity_id == Activity.id, ActivityNeed.need_id == need_id)
        )
    if person_id is not None:
        stmt = stmt.where(
            exists().where(
                Participant.activity_id == Activity.id, Participant.person_id == person_id
            )
        )
    search = text_search(q, Activity.title, Activity.subject, Activity.focus)
    if search is not None:
        stmt = stmt.where(search)
    return stmt


# ``?sort=`` of ``GET /v1/activities``: ``first_session`` is the day of its first session
# (activities without sessions come last either way).
SORTS = sort_param(
    {
        "title": func.lower(Activity.title),
        "first_session": select(func.min(ActivitySession.held_on))
        .where(ActivitySession.activity_id == Activity.id)
        .correlate(Activity)
        .scalar_subquery(),
        "created_at": Activity.created_at,
        "updated_at": Activity.updated_at,
    }
)


def total_cost(activity: Activity) -> Decimal:
    return (
        Decimal(activity.fees or 0)
        + Decimal(activity.materials_cost or 0)
        + Decimal(activity.supply_cover_cost or 0)
    )


async def record_activity_event(
    session: AsyncSession, activity: Activity, *, removed: bool = False
) -> None:
    read = await activity_read(session, activity)
    payload = catalogue.ActivityRecorded(
        activity_id=activity.id,
        trust_id=activity.trust_id,
        school_ids=list(activity.school_ids),
        title=activity.title,
        kind=activity.kind,
        status="cancelled" if activity.status == "cancelled" else "active",
        provider_id=activity.provider_id,
        subject_specific=activity.subject_specific,
        subject=activity.subject,
        need_ids=read.need_ids,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        sustained=read.sustained.sustained,
        total_cost=float(total_cost(activity)),
        origin=activity.source,
        origin_id=activity.source_id,
        removed=removed,
    )
    events.add(
        session,
        payload,
    )


# ---- read model ---------------------------------------------------------------------------


def _extras() -> tuple[Any, Any, Any]:
    """An activity's sessions (JSON, by date), need ids and participant count as correlated
    subqueries, so a read is one round trip."""
    sessions = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(
                        func.json_build_object(
                            "id",
                            ActivitySession.id,
                            "title",
                            ActivitySession.title,
                            "held_on",
                            ActivitySession.held_on,
                            "duration_minutes",
                            ActivitySession.duration_minutes,
                        ),
                        ActivitySession.held_on,
                        ActivitySession.id,
                    )
                ),
                literal_column("'[]'::json"),
            )
        )
        .where(ActivitySession.activity_id == Activity.id)
        .scalar_subquery()
        .label("sessions")
    )
    needs = (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(ActivityNeed.need_id, ActivityNeed.need_id)),
                literal_column("'{}'::uuid[]"),
            )
        )
        .where(ActivityNeed.activity_id == Activity.id)
        .scalar_subquery()
        .label("need_ids")
    )
    count = (
        select(func.count())
        .where(Participant.activity_id == Activity.id)
        .scalar_subquery()
        .label("participant_count")
    )
    return sessions, needs, count


def _read(
    a: Activity, sessions: list[dict[str, Any]], needs: list[uuid.UUID], count: int
) -> ActivityRead:
    own = [SessionRead.model_validate(s) for s in sessions]
    return from_row(
        ActivityRead,
        a,
        school_ids=list(a.school_ids),
        need_ids=list(needs),
        sessions=own,
        session_hours=round(sum(s.duration_minutes for s in own) / 60, 2),
        sustained=classify([s.held_on for s in own]),
        costs=CostsRead(
            fees=float(a.fees),
            materials=float(a.materials_cost),
            supply_cover=float(a.supply_cover_cost),
            total=float(total_cost(a)),
        ),
        release_time_hours=float(a.release_time_hours),
        participant_count=int(count),
    )


async def activity_reads(
    session: AsyncSession, activities: Sequence[Activity]
) -> list[ActivityRead]:
    if not activities:
        return []
    rows = {
        row[0]: row[1:]
        for row in await session.execute(
            select(Activity.id, *_extras()).where(Activity.id.in_([a.id for a in activities]))
        )
    }
    return [_read(a, *rows[a.id]) for a in activities]


async def read_activity(
    session: AsyncSession, activity_id: uuid.UUID, *, principal: Principal
) -> ActivityRead:
    """A single activity the caller may see, read in one round trip (404 otherwise)."""
    row = (
        await session.execute(
            select(Activity, *_extras()).where(
                Activity.id == activity_id,
                Activity.trust_id == principal.trust_id,
                visible_to(principal),
            )
        )
    ).first()
    if row is None:
        raise ActivityNotFound()
    return _read(*row)


async def activity_read(session: AsyncSession, activity: Activity) -> ActivityRead:
    return (await activity_reads(session, [activity]))[0]
