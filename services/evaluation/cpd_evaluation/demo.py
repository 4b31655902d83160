"""The demo CPD year at Oakridge, loaded from ``demo.yaml`` and written through the service
functions as the API would (so the outbox holds the events real use would produce):
providers, courses with gap tasks, an INSET day, coaching and mentoring pairs with their logs,
feedback and reflections, and evaluated programmes (:mod:`cpd_evaluation.demo_evaluations`).
The lesson studies arrive from the lesson study service by events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.demo import load_demo
from cpd_demo import trust as demo_data
from cpd_demo.trust import days_ago, principal_of
from cpd_evaluation import demo_offer
from cpd_evaluation.activities import service as activities_service
from cpd_evaluation.activities.schemas import ActivityCreate, CostsIn, SessionIn
from cpd_evaluation.coaching import schemas as coaching_schemas
from cpd_evaluation.coaching import service as coaching_service
from cpd_evaluation.demo_evaluations import people as evaluation_people
from cpd_evaluation.demo_evaluations import seed_evaluations
from cpd_evaluation.feedback import service as feedback_service
from cpd_evaluation.feedback.schemas import FeedbackCreate
from cpd_evaluation.models import Activity, ActivitySession, Person, School
from cpd_evaluation.models.voice import Provider
from cpd_evaluation.participants import service as participants_service
from cpd_evaluation.participants.schemas import (
    AttendanceIn,
    AttendanceMark,
    ImpactReportIn,
    ParticipantCreate,
)
from cpd_evaluation.providers import service as providers_service
from cpd_evaluation.providers.schemas import ProviderCreate
from cpd_evaluation.reflections import service as reflections_service
from cpd_evaluation.reflections.schemas import ReflectionCreate

SCHOOLS = {"northfield": demo_data.NORTHFIELD, "southbank": demo_data.SOUTHBANK}


@cache
def content() -> dict[str, Any]:
    loaded: dict[str, Any] = load_demo("cpd_evaluation", "demo.yaml")
    return loaded


def people() -> set[str]:
    """Demo keys of everyone the demo names (the directory must know them first)."""
    c = content()
    keys: set[str] = set()
    for a in c["activities"]:
        keys |= {a["recorded_by"], *a["participants"]}
        keys |= {r["author"] for r in a.get("reflections", [])}
        keys |= {r["mentor"] for r in a.get("reflections", []) if r.get("mentor")}
    for p in c["coaching"]:
        keys |= {p["recorded_by"], p["coach"], p["coachee"]}
    return keys | evaluation_people(c) | demo_offer.people()


async def projection_ready(session: AsyncSession) -> bool:
    """True once the directory events for the demo people and schools have arrived."""
    keys = people()
    found = await session.scalar(
        select(func.count()).where(
            Person.id.in_([demo_data.PEOPLE_BY_KEY[k].id for k in keys]), Person.active.is_(True)
        )
    )
    schools = await session.scalar(
        select(func.count()).where(School.id.in_(list(SCHOOLS.values())))
    )
    return found == len(keys) and schools == len(SCHOOLS)


async def seed_demo(session: AsyncSession) -> None:
    """Adds the demo year unless it is there already. Never commits."""
    c = content()
    done = await session.scalar(
        select(Provider.id).where(
            Provider.trust_id == demo_data.OAKRIDGE, Provider.name == c["providers"][0]["name"]
        )
    )
    if done is not None:
        return
    admin = principal_of("admin")
    providers = {}
    for p in c["providers"]:
        provider = await providers_service.create_provider(
            session, principal=admin, data=ProviderCreate(**p)
        )
        providers[provider.name] = provider.id
    for a in c["activities"]:
        await _activity(session, a, providers)
    for pair in c["coaching"]:
        await _coaching(session, pair)
    await seed_evaluations(session, c)
    await demo_offer.seed_offer(session)


async def _activity(session: AsyncSession, a: dict[str, Any], providers: dict[str, Any]) -> None:
    leader = principal_of(a["recorded_by"])
    data = ActivityCreate(
        title=a["title"],
        kind=a["kind"],
        provider_id=providers[a["provider"]],
        school_ids=[SCHOOLS[s] for s in a["schools"]],
        subject_specific=a.get("subject") is not None,
        subject=a.get("subject"),
        focus=a.get("focus"),
        intent=a.get("intent"),
        gap_task=a.get("gap_task"),
        gap_task_due_on=days_ago(a["gap_task_due_ago"]) if "gap_task_due_ago" in a else None,
        costs=CostsIn(**{k: Decimal(str(v)) for k, v in a["costs"].items()}),
        release_time_hours=Decimal(str(a["release_time_hours"])),
        sessions=[
            SessionIn(title=s["title"], held_on=days_ago(s["ago"]), duration_minutes=s["minutes"])
            for s in a["sessions"]
        ],
    )
    activity = await activities_service.create_activity(session, principal=leader, data=data)
    participants = {}
    for key in a["participants"]:
        participant = await participants_service.add_participant(
            session,
            activity.id,
            principal=leader,
            data=ParticipantCreate(person_id=demo_data.PEOPLE_BY_KEY[key].id),
        )
        participants[key] = participant
    sessions = (
        await session.scalars(
            select(ActivitySession).where(ActivitySession.activity_id == activity.id)
        )
    ).all()
    absent = a.get("absent", {})
    marks = [
        AttendanceMark(
            participant_id=participant.id,
            session_id=s.id,
            attended=s.title not in absent.get(key, []),
        )
        for key, participant in participants.items()
        for s in sessions
        if s.held_on <= days_ago(0)
    ]
    if marks:
        await participants_service.set_attendance(
            session, activity, principal=leader, data=AttendanceIn(marks=marks)
        )
    for key, report in a.get("impact_reports", {}).items():
        await participants_service.report_impact(
            session,
            activity,
            participants[key],
            principal=principal_of(key),
            data=ImpactReportIn(
                report=report, gap_task_done_on=days_ago(a["gap_task_due_ago"] + 2)
            ),
        )
    for key, (relevance, quality, impact, differently, comment) in a.get("feedback", {}).items():
        await feedback_service.give_feedback(
            session,
            activity,
            principal=principal_of(key),
            data=FeedbackCreate(
                relevance=relevance,
                quality=quality,
                expected_impact=impact,
                will_do_differently=differently,
                comment=comment,
            ),
        )
    if a.get("close_feedback"):
        await feedback_service.set_window(
            session, activity, principal=leader, closes_at=datetime.now(UTC)
        )
    for r in a.get("reflections", []):
        mentor = r.get("mentor")
        await reflections_service.create_reflection(
            session,
            activity,
            principal=principal_of(r["author"]),
            data=ReflectionCreate(
                tried=r["tried"],
                pupil_effect=r["pupil_effect"],
                next_steps=r["next_steps"],
                mentor_id=demo_data.PEOPLE_BY_KEY[mentor].id if mentor else None,
                shared_as_evidence=r.get("shared_as_evidence", False),
            ),
        )


async def _coaching(session: AsyncSession, pair: dict[str, Any]) -> None:
    leader = principal_of(pair["recorded_by"])
    activity: Activity = await activities_service.create_activity(
        session,
        principal=leader,
        data=ActivityCreate(
            title=pair["title"], kind=pair["kind"], school_ids=[SCHOOLS[pair["school"]]]
        ),
    )
    coach = demo_data.PEOPLE_BY_KEY[pair["coach"]].id
    coachee = demo_data.PEOPLE_BY_KEY[pair["coachee"]].id
    roles = {
        "coaching": ("coach", "coachee"),
        "mentoring": ("mentor", "mentee"),
        "peer_coaching": ("coach", "coachee"),
    }[pair["kind"]]
    for person, role in zip((coach, coachee), roles, strict=True):
        await participants_service.add_participant(
            session,
            activity.id,
            principal=leader,
            data=ParticipantCreate(person_id=person, role=role),
        )
    agreement = await coaching_service.create_agreement(
        session,
        activity,
        principal=principal_of(pair["coach"]),
        data=coaching_schemas.AgreementCreate(
            coach_id=coach, coachee_id=coachee, agreed_outcomes=pair["agreed_outcomes"]
        ),
    )
    for entry in pair["log"]:
        await coaching_service.add_log_entry(
            session,
            agreement,
            data=coaching_schemas.CoachingSessionCreate(
                held_on=days_ago(entry["ago"]),
                minutes=entry["minutes"],
                focus=entry["focus"],
                evidence=entry["evidence"],
                next_steps=entry.get("next_steps"),
                impact_noted=entry.get("impact_noted"),
                next_session_on=days_ago(entry["next_ago"]) if "next_ago" in entry else None,
            ),
        )
