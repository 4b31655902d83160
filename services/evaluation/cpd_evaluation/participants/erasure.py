"""Right to erasure (``directory.person.erased``): the person's participations become
anonymous former participants (their hours stay in the activity's figures), what they wrote
(impact reports) goes, and their name leaves every free-text field of the trust's
activities."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.erasure import FreeText, scrub_name
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_evaluation import voice_erasure
from cpd_evaluation.evaluations import erasure as plans_erasure
from cpd_evaluation.measures import erasure as measures_erasure
from cpd_evaluation.models import Activity, Participant, Person
from cpd_evaluation.participants import service as participants_service
from cpd_evaluation.terms import ERASED_NAME

# Free text that may name a colleague.
_TEXT_COLUMNS = {
    "activities": ("title", "focus", "intent", "gap_task", "impact_note", "cancel_reason"),
    "participants": ("impact_report",),
    "programmes": ("title", "description"),
    "programme_run_sessions": ("title", "place"),
    "cpd_requests": ("course", "rationale", "reason"),
}


async def scrub_erased_name(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    """Runs before the directory row is deleted (it needs the name)."""
    name = await session.scalar(
        select(Person.name).where(
            Person.id == payload.person_id, Person.trust_id == payload.trust_id
        )
    )
    await scrub_name(
        session,
        name=name,
        person_id=payload.person_id,
        trust_id=payload.trust_id,
        columns=[
            FreeText(table, column)
            for table, columns in {
                **_TEXT_COLUMNS,
                **voice_erasure.TEXT_COLUMNS,
                **measures_erasure.TEXT_COLUMNS,
            }.items()
            for column in columns
        ]
        + plans_erasure.FREE_TEXT,
        replacement=ERASED_NAME,
    )


async def erase_participation(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    """``on_erased``: anonymise the person's participations and tell downstream consumers."""
    rows = (
        await session.execute(
            update(Participant)
            .where(
                Participant.person_id == payload.person_id,
                Participant.trust_id == payload.trust_id,
            )
            .values(person_id=None, former_participant=True, impact_report=None)
            .returning(Participant.id, Participant.activity_id)
        )
    ).all()
    await session.execute(
        update(Activity)
        .where(Activity.created_by == payload.person_id, Activity.trust_id == payload.trust_id)
        .values(created_by=None)
    )
    by_activity: dict[object, list[object]] = {}
    for participant_id, activity_id in rows:
        by_activity.setdefault(activity_id, []).append(participant_id)
    for activity in await session.scalars(
        select(Activity).where(Activity.id.in_(list(by_activity)))
    ):
        await participants_service.record_participation(
            session,
            activity,
            by_activity[activity.id],  # type: ignore[arg-type]
        )
