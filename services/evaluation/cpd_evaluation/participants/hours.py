"""A participant's hours, computed in SQL (never stored as a total).

In order of precedence:
1. ``recorded``: a figure recorded for the participant (``participants.hours``);
2. ``lesson_study``: the hours the lesson study service reported: a study's or enquiry's total
   per member once it completed, until then the sum of the parts reported (research lesson
   cycles, learning community meetings);
3. ``attendance``: the sessions attended (the minutes noted, else the whole session).

:func:`hours_subquery` is shared by participants, CPD records and dashboards, so every figure
counts hours the same way.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Numeric, Subquery, case, cast, func, literal, select

from cpd_evaluation.models import ActivitySession, Attendance, Participant, SourceHours

# The ``source_ref`` of a total that replaces the parts reported before it.
TOTAL = "total"


def hours_subquery(*where: Any, trust_id: uuid.UUID | None = None) -> Subquery:
    """Columns: ``participant_id``, ``activity_id``, ``person_id``, ``role``, ``hours``
    (numeric, 2 places) and ``basis``; ``where`` filters the participants.

    The reported hours and attendance are summed only for the participants ``where`` selects
    (PostgreSQL does not push a join's condition into a grouped subquery, so without this a
    read of one activity's participants summed every trust's rows): the cost follows the
    participants asked for, not the size of the platform. ``trust_id`` says that ``where``
    selects a whole trust (dashboards, QA metrics): the sums then take that trust's rows by
    its index instead, the cheaper plan for thousands of participants."""
    if trust_id is None:
        # Not correlated with the outer query: the same participants, selected on their own.
        wanted = select(Participant.id).where(*where).correlate(None)
        own_reports: tuple[Any, ...] = (SourceHours.participant_id.in_(wanted),)
        own_attendance: tuple[Any, ...] = (Attendance.participant_id.in_(wanted),)
    else:
        own_reports = (SourceHours.trust_id == trust_id,)
        own_attendance = (Attendance.trust_id == trust_id, ActivitySession.trust_id == trust_id)
    reported = (
        select(
            SourceHours.participant_id.label("participant_id"),
            func.coalesce(
                func.max(SourceHours.hours).filter(SourceHours.source_ref == TOTAL),
                func.sum(SourceHours.hours).filter(SourceHours.source_ref != TOTAL),
            ).label("hours"),
        )
        .where(*own_reports)
        .group_by(SourceHours.participant_id)
        .subquery("reported")
    )
    attended = (
        select(
            Attendance.participant_id.label("participant_id"),
            func.sum(func.coalesce(Attendance.minutes, ActivitySession.duration_minutes)).label(
                "minutes"
            ),
        )
        .join(ActivitySession, ActivitySession.id == Attendance.session_id)
        .where(Attendance.attended.is_(True), *own_attendance)
        .group_by(Attendance.participant_id)
        .subquery("attended")
    )
    from_attendance = cast(func.coalesce(attended.c.minutes, 0), Numeric) / 60
    hours = func.round(
        func.coalesce(Participant.hours, reported.c.hours, from_attendance), 2
    ).label("hours")
    basis = case(
        (Participant.hours.is_not(None), literal("recorded")),
        (reported.c.hours.is_not(None), literal("lesson_study")),
        else_=literal("attendance"),
    ).label("basis")
    return (
        select(
            Participant.id.label("participant_id"),
            Participant.activity_id.label("activity_id"),
            Participant.person_id.label("person_id"),
            Participant.role.label("role"),
            hours,
            basis,
        )
        .outerjoin(reported, reported.c.participant_id == Participant.id)
        .outerjoin(attended, attended.c.participant_id == Participant.id)
        .where(*where)
        .subquery("participant_hours")
    )
