"""Sustained or one-off, derived from an activity's sessions (never typed).

Effective CPD runs over time: at least half a term (six weeks) with follow-up after the
first session. An activity is sustained when its sessions span at least
:data:`SUSTAINED_MIN_DAYS` days from the first to the last, with at least one follow-up
session after the first day; anything else is one-off. The SQL form
(:func:`sustained_sql`) gives the same answer for the records and dashboards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_

from cpd_evaluation.activities.schemas import SustainedRead
from cpd_evaluation.models import Activity
from cpd_evaluation.terms import SUSTAINED_MIN_DAYS


def classify(session_dates: Sequence[date]) -> SustainedRead:
    if not session_dates:
        return SustainedRead(
            pattern="one_off",
            sustained=False,
            reason="No sessions are recorded yet, so nothing shows it runs over time.",
            span_days=None,
            follow_up_sessions=0,
        )
    first, last = min(session_dates), max(session_dates)
    follow_ups = sum(1 for d in session_dates if d > first)
    span = (last - first).days
    if follow_ups == 0:
        reason = (
            f"One-off: every session is on {first.isoformat()}, with no follow-up session "
            "afterwards."
        )
    elif span < SUSTAINED_MIN_DAYS:
        reason = (
            f"One-off: the sessions span {span} days ({first.isoformat()} to "
            f"{last.isoformat()}), under the six weeks ({SUSTAINED_MIN_DAYS} days) that "
            "sustained CPD runs over."
        )
    else:
        weeks = span // 7
        reason = (
            f"Sustained: the sessions run over {weeks} weeks ({span} days, {first.isoformat()} "
            f"to {last.isoformat()}) with {follow_ups} follow-up "
            f"session{'s' if follow_ups != 1 else ''} after the first."
        )
    return SustainedRead(
        pattern="sustained" if follow_ups and span >= SUSTAINED_MIN_DAYS else "one_off",
        sustained=bool(follow_ups and span >= SUSTAINED_MIN_DAYS),
        reason=reason,
        span_days=span,
        follow_up_sessions=follow_ups,
    )


def sustained_sql() -> ColumnElement[bool]:
    """The same rule over the first and last session dates kept on the activity (a span of
    six weeks implies a session after the first day)."""
    return and_(
        Activity.starts_on.is_not(None),
        (Activity.ends_on - Activity.starts_on) >= SUSTAINED_MIN_DAYS,
    )
