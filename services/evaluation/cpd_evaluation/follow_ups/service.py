"""Follow-through: what is due next on CPD activities, and telling it once when it falls due.

The open items, derived (never stored) from what was recorded:
- ``gap_task``: a delegate of training with a gap task who has not done it; due on the gap
  task's due date.
- ``impact_report``: a delegate who has not written their impact report; due
  :data:`IMPACT_REPORT_AFTER_DAYS` days after the training's last session.
- ``coaching_session``: the next session the pair set in the latest entry of their log.
- ``feedback``: a participant who has not given feedback while the window is open; due on the
  last session.
- ``request_decision``: a submitted request for CPD, due from whoever decides it.
- ``evaluation_baseline``, ``evaluation_short_term``, ``evaluation_medium_term``,
  ``evaluation_report``: an evaluation plan's data point (or report) with a due date whose
  status has not reached it; due from the plan's person responsible, counted for the plan's
  schools.

The worker tells each item once when it falls due (:func:`announce_due`): a
``follow_up_notices`` row per item and due date, inserted with the event in one transaction;
a concurrent or repeated run inserts nothing and tells nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.types import Uuid

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.events import catalogue
from cpd_evaluation.follow_ups.schemas import FollowUpItem, FollowUps, SchoolFollowUps
from cpd_evaluation.models import Activity, Participant, Person, School
from cpd_evaluation.models.offer import CpdRequest, Programme, ProgrammeRun
from cpd_evaluation.models.plans import EvaluationPlan
from cpd_evaluation.models.voice import (
    CoachingAgreement,
    CoachingSession,
    Feedback,
    FeedbackWindow,
    FollowUpNotice,
)
from cpd_evaluation.terms.plans import statuses_before
from cpd_evaluation.terms.voice import (
    FEEDBACK_WINDOW_DAYS,
    FOLLOW_UP_KINDS,
    IMPACT_REPORT_AFTER_DAYS,
)

# A request for CPD is due a decision a week after it was made (or by its first day).
REQUEST_DECISION_DAYS = 7

# Facilitators run the training; they owe no gap task, impact report or feedback.
DELEGATE = Participant.role != "facilitator"


def _plan_items() -> list[Select[Any]]:
    """An evaluation plan's points with a due date that its status has not reached."""
    out: list[Select[Any]] = []
    for point, column in (
        ("baseline", EvaluationPlan.baseline_due_on),
        ("short_term", EvaluationPlan.short_term_due_on),
        ("medium_term", EvaluationPlan.medium_term_due_on),
        ("report", EvaluationPlan.report_due_on),
    ):
        out.append(
            select(
                literal(f"evaluation_{point}"),
                EvaluationPlan.id,
                null().cast(Uuid),
                EvaluationPlan.trust_id,
                EvaluationPlan.responsible_id,
                column,
                EvaluationPlan.title,
                EvaluationPlan.school_ids,
            ).where(
                column.is_not(None),
                EvaluationPlan.status.in_(statuses_before(point)),
            )
        )
    return out


def _request_items() -> Select[Any]:
    """A submitted request for CPD, due from each person who may decide it (a leader of the
    requester's school, or the trust team for trust-funded places; never the requester), a
    week after it was made or by its first day, whichever is sooner."""
    decider = and_(
        Person.trust_id == CpdRequest.trust_id,
        Person.active,
        CpdRequest.person_id.is_distinct_from(Person.id),
        or_(
            Person.roles.contains(["trust_admin"]),
            and_(
                ~CpdRequest.decided_by_trust,
                Person.roles.contains(["school_leader"]),
                Person.school_ids.contains(array([CpdRequest.school_id], type_=Uuid)),
            ),
        ),
    )
    return (
        select(
            literal("request_decision"),
            CpdRequest.id,
            ProgrammeRun.activity_id,
            CpdRequest.trust_id,
            Person.id,
            cast(
                func.least(
                    cast(CpdRequest.created_at, Date) + REQUEST_DECISION_DAYS,
                    CpdRequest.starts_on,
                ),
                Date,
            ),
            func.coalesce(Programme.title, CpdRequest.course),
            array([CpdRequest.school_id], type_=Uuid),
        )
        .select_from(CpdRequest)
        .outerjoin(ProgrammeRun, ProgrammeRun.id == CpdRequest.run_id)
        .outerjoin(Programme, Programme.id == ProgrammeRun.programme_id)
        .join(Person, decider)
        .where(CpdRequest.status == "submitted")
    )


def open_items(*, today: date) -> Subquery:
    """Columns: kind, item_id, activity_id (null for a plan's items), trust_id, person_id (null
    when a plan names no one), due_on, title (of the activity or plan), school_ids (one row per
    person an item is due from)."""
    active = and_(Activity.status == "active", Participant.person_id.is_not(None), DELEGATE)
    gap_task = (
        select(
            literal("gap_task").label("kind"),
            Participant.id.label("item_id"),
            Activity.id.label("activity_id"),
            Activity.trust_id.label("trust_id"),
            Participant.person_id.label("person_id"),
            Activity.gap_task_due_on.label("due_on"),
            Activity.title.label("title"),
            Activity.school_ids.label("school_ids"),
        )
        .join(Activity, Activity.id == Participant.activity_id)
        .where(
            active,
            Activity.gap_task.is_not(None),
            Activity.gap_task_due_on.is_not(None),
            Participant.gap_task_done_on.is_(None),
            Participant.impact_report.is_(None),
        )
    )
    impact_report = (
        select(
            literal("impact_report"),
            Participant.id,
            Activity.id,
            Activity.trust_id,
            Participant.person_id,
            cast(Activity.ends_on + IMPACT_REPORT_AFTER_DAYS, Date),
            Activity.title,
            Activity.school_ids,
        )
        .join(Activity, Activity.id == Participant.activity_id)
        .where(
            active,
            Activity.gap_task.is_not(None),
            Activity.ends_on.is_not(None),
            Participant.impact_report.is_(None),
        )
    )
    later = aliased(CoachingSession)
    coaching_base = (
        select(
            CoachingSession.id.label("entry_id"),
            CoachingSession.activity_id.label("activity_id"),
            CoachingSession.next_session_on.label("due_on"),
            Activity.title.label("title"),
            Activity.school_ids.label("school_ids"),
        )
        .join(Activity, Activity.id == CoachingSession.activity_id)
        .where(
            Activity.status == "active",
            CoachingSession.next_session_on.is_not(None),
            ~exists().where(
                later.activity_id == CoachingSession.activity_id,
                tuple_(later.held_on, later.id)
                > tuple_(CoachingSession.held_on, CoachingSession.id),
            ),
        )
        .subquery("latest_entry")
    )
    pair = select(
        CoachingAgreement.activity_id.label("activity_id"),
        CoachingAgreement.trust_id.label("trust_id"),
        func.unnest(
            array([CoachingAgreement.coach_id, CoachingAgreement.coachee_id], type_=Uuid)
        ).label("person_id"),
    ).subquery("pair")
    coaching = select(
        literal("coaching_session"),
        coaching_base.c.entry_id,
        coaching_base.c.activity_id,
        pair.c.trust_id,
        pair.c.person_id,
        coaching_base.c.due_on,
        coaching_base.c.title,
        coaching_base.c.school_ids,
    ).join(pair, pair.c.activity_id == coaching_base.c.activity_id)
    window_open = or_(
        exists().where(
            FeedbackWindow.activity_id == Activity.id, FeedbackWindow.closes_at > utcnow()
        ),
        and_(
            ~exists().where(FeedbackWindow.activity_id == Activity.id),
            Activity.ends_on + FEEDBACK_WINDOW_DAYS >= today,
        ),
    )
    feedback = (
        select(
            literal("feedback"),
            Participant.id,
            Activity.id,
            Activity.trust_id,
            Participant.person_id,
            Activity.ends_on,
            Activity.title,
            Activity.school_ids,
        )
        .join(Activity, Activity.id == Participant.activity_id)
        .where(
            active,
            Activity.starts_on <= today,
            Activity.ends_on.is_not(None),
            window_open,
            ~exists().where(Feedback.participant_id == Participant.id),
        )
    )
    return union_all(
        gap_task, impact_report, coaching, feedback, *_plan_items(), _request_items()
    ).subquery("follow_ups")


async def follow_ups_for(session: AsyncSession, *, principal: Principal) -> FollowUps:
    today = utcnow().date()
    items_q = open_items(today=today)
    items: list[FollowUpItem] = []
    if principal.person_id is not None:
        rows = await session.execute(
            select(items_q)
            .where(
                items_q.c.person_id == principal.person_id,
                items_q.c.trust_id == principal.trust_id,
            )
            .order_by(items_q.c.due_on, items_q.c.kind, items_q.c.item_id)
            .limit(500)
        )
        items = [
            FollowUpItem(
                kind=r.kind,
                item_id=r.item_id,
                activity_id=r.activity_id,
                activity_title=r.title if r.activity_id else None,
                evaluation_id=r.item_id if r.kind.startswith("evaluation_") else None,
                evaluation_title=r.title if r.kind.startswith("evaluation_") else None,
                request_id=r.item_id if r.kind == "request_decision" else None,
                due_on=r.due_on,
                overdue=r.due_on < today,
            )
            for r in rows
        ]
    schools: list[SchoolFollowUps] = []
    if principal.is_trust_admin or principal.has_any("school_leader"):
        school_ids = select(School.id).where(School.trust_id == principal.trust_id)
        if not principal.is_trust_admin:
            school_ids = school_ids.where(School.id.in_(sorted(principal.school_ids)))
        per_school = (
            select(
                func.unnest(items_q.c.school_ids).label("school_id"),
                items_q.c.kind,
                items_q.c.due_on,
                # What one count is: an item per person it is due from, but a request once
                # however many may decide it.
                case(
                    (items_q.c.kind == "request_decision", cast(items_q.c.item_id, String)),
                    else_=cast(items_q.c.item_id, String)
                    + ":"
                    + func.coalesce(cast(items_q.c.person_id, String), ""),
                ).label("counted"),
            )
            .where(items_q.c.trust_id == principal.trust_id)
            .subquery("per_school")
        )
        counts: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for school_id, kind, n, overdue in await session.execute(
            select(
                per_school.c.school_id,
                per_school.c.kind,
                func.count(per_school.c.counted.distinct()),
                func.count(per_school.c.counted.distinct()).filter(per_school.c.due_on < today),
            )
            .where(per_school.c.school_id.in_(school_ids))
            .group_by(per_school.c.school_id, per_school.c.kind)
        ):
            counts[school_id][kind] = int(n)
            counts[school_id]["overdue"] += int(overdue)
        for school_id in await session.scalars(school_ids.order_by(School.id)):
            c = counts[school_id]
            schools.append(
                SchoolFollowUps(
                    school_id=school_id,
                    **{kind: c[kind] for kind in FOLLOW_UP_KINDS},
                    overdue=c["overdue"],
                )
            )
    return FollowUps(items=items, schools=schools)


async def announce_due(session: AsyncSession, *, today: date | None = None) -> int:
    """Tells every item that fell due and was not told yet: one ``follow_up.due`` event per
    activity item and due date (``evaluation.data_due`` for a plan's points), in the
    transaction that records the notice. Returns how many."""
    today = today or utcnow().date()
    items_q = open_items(today=today)
    due = (
        select(
            items_q.c.kind,
            items_q.c.item_id,
            items_q.c.due_on,
            items_q.c.activity_id,
            items_q.c.trust_id,
            items_q.c.school_ids,
            func.array_remove(func.array_agg(items_q.c.person_id), None).label("person_ids"),
        )
        .where(
            items_q.c.due_on <= today,
            items_q.c.due_on > today - timedelta(days=365),
            # Deciders hear of a request when it is made (request.submitted), not again here.
            items_q.c.kind != "request_decision",
        )
        .group_by(
            items_q.c.kind,
            items_q.c.item_id,
            items_q.c.due_on,
            items_q.c.activity_id,
            items_q.c.trust_id,
            items_q.c.school_ids,
        )
        # One order for every run, so concurrent runs insert their notices in the same order
        # (the later waits for the earlier, then inserts nothing) instead of deadlocking.
        .order_by(items_q.c.kind, items_q.c.item_id, items_q.c.due_on)
    )
    rows = (await session.execute(due)).all()
    if not rows:
        return 0
    inserted = (
        await session.execute(
            insert(FollowUpNotice)
            .values(
                [
                    {
                        "kind": r.kind,
                        "item_id": r.item_id,
                        "due_on": r.due_on,
                        "trust_id": r.trust_id,
                    }
                    for r in rows
                ]
            )
            .on_conflict_do_nothing()
            .returning(FollowUpNotice.kind, FollowUpNotice.item_id, FollowUpNotice.due_on)
        )
    ).all()
    new = {(k, i, d) for k, i, d in inserted}
    told = 0
    for r in rows:
        if (r.kind, r.item_id, r.due_on) not in new:
            continue
        person_ids = sorted(set(r.person_ids))
        school_ids = sorted(r.school_ids or [])
        if r.activity_id is None:
            events.add(
                session,
                catalogue.EvaluationDataDue(
                    trust_id=r.trust_id,
                    evaluation_id=r.item_id,
                    point=r.kind.removeprefix("evaluation_"),
                    school_ids=school_ids,
                    person_ids=person_ids,
                    due_on=r.due_on,
                ),
            )
        else:
            events.add(
                session,
                catalogue.FollowUpDue(
                    trust_id=r.trust_id,
                    kind=r.kind,
                    item_id=r.item_id,
                    activity_id=r.activity_id,
                    school_ids=school_ids,
                    person_ids=person_ids,
                    due_on=r.due_on,
                ),
            )
        told += 1
    return told
