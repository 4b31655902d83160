"""Who may see and change an activity.

Trust admins see and change every activity of their trust; school leaders those of the
schools they lead; staff the activities they take part in or recorded themselves (and they
change only what they recorded). Everyone else gets 404, exactly as for a missing activity.
Governors and API clients never see activities (403 before any lookup).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, cast, exists, false, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal, Role
from cpd_common.db import scalar_or_raise
from cpd_evaluation.activities.errors import (
    ActivityCancelled,
    ActivityNotFound,
    CannotChangeActivity,
)
from cpd_evaluation.models import Activity, Participant

ACTIVITY_ROLES: tuple[Role, ...] = ("staff", "school_leader", "trust_admin")


def leads(principal: Principal, school_ids: list[uuid.UUID]) -> bool:
    return principal.has_any("school_leader") and not principal.school_ids.isdisjoint(school_ids)


def can_manage(activity: Activity, principal: Principal) -> bool:
    """Trust admins and leaders of one of its schools manage an activity (participants,
    attendance, impact note); so does the member of staff who recorded it."""
    return (
        principal.is_trust_admin
        or leads(principal, activity.school_ids)
        or (principal.person_id is not None and activity.created_by == principal.person_id)
    )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """SQL filter: the activities of the caller's trust the caller may read."""
    if principal.is_trust_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if principal.person_id is not None:
        conditions.append(Activity.created_by == principal.person_id)
        conditions.append(
            exists().where(
                Participant.activity_id == Activity.id,
                Participant.person_id == principal.person_id,
            )
        )
    if principal.has_any("school_leader") and principal.school_ids:
        conditions.append(
            Activity.school_ids.overlap(cast(sorted(principal.school_ids), ARRAY(Uuid)))
        )
    return or_(*conditions) if conditions else false()


async def get_activity(
    session: AsyncSession,
    activity_id: uuid.UUID,
    *,
    principal: Principal,
    write: bool = False,
) -> Activity:
    """The activity (locked for the transaction when ``write``). 404 when it is missing, in
    another trust or not visible; 403 when the caller may read but not change it."""
    stmt = select(Activity).where(
        Activity.id == activity_id,
        Activity.trust_id == principal.trust_id,
        visible_to(principal),
    )
    if write:
        stmt = stmt.with_for_update(of=Activity)
    activity = await scalar_or_raise(session, stmt, ActivityNotFound)
    if write and not can_manage(activity, principal):
        raise CannotChangeActivity(
            "Only trust admins, leaders of its schools and whoever recorded it can change it."
        )
    return activity


def ensure_active(activity: Activity) -> None:
    """A cancelled activity is kept as a record: its plan and participants no longer change."""
    if activity.status == "cancelled":
        raise ActivityCancelled("The activity is cancelled; it is kept as a record.")
