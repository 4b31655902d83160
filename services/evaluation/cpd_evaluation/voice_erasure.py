"""Right to erasure for what people added to activities (``directory.person.erased``).

Runs before the participations are anonymised (it finds the person's feedback through their
participation): their feedback loses its attribution and its texts but keeps its ratings
(released aggregates keep their shape); their reflections go, and entries shared with them
stop being shared; coaching agreements they are part of go with the pair's whole learning log
(it is a record of both). Their name then leaves the free text of the trust's feedback,
reflections, logs and providers with the rest (``participants.erasure``).
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_evaluation.models import Participant
from cpd_evaluation.models.voice import CoachingAgreement, CoachingSession, Feedback, Reflection

# Free text of this module's tables that may name a colleague (scrubbed with the others).
TEXT_COLUMNS = {
    "feedback": ("will_do_differently", "comment"),
    "reflections": ("tried", "pupil_effect", "next_steps"),
    "coaching_agreements": ("agreed_outcomes",),
    "coaching_sessions": ("focus", "next_steps", "impact_noted"),
    # Not the provider's name: an organisation's, and unique in the trust.
    "providers": ("evidence", "follow_up", "impact_evaluation", "quality_corroboration"),
}


async def erase_voice(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    person, trust = payload.person_id, payload.trust_id
    await session.execute(
        update(Feedback)
        .where(
            Feedback.trust_id == trust,
            Feedback.participant_id.in_(
                select(Participant.id).where(
                    Participant.person_id == person, Participant.trust_id == trust
                )
            ),
        )
        .values(participant_id=None, will_do_differently=None, comment=None)
    )
    await tombstones.delete_where(
        session,
        Reflection,
        Reflection.trust_id == trust,
        Reflection.author_id == person,
        parent=Reflection.activity_id,
        readers=[Reflection.author_id, Reflection.mentor_id],
    )
    await session.execute(
        update(Reflection)
        .where(Reflection.trust_id == trust, Reflection.mentor_id == person)
        .values(mentor_id=None)
    )
    pairs = select(CoachingAgreement.activity_id).where(
        CoachingAgreement.trust_id == trust,
        or_(CoachingAgreement.coach_id == person, CoachingAgreement.coachee_id == person),
    )
    for activity_id, coach_id, coachee_id in (
        await session.execute(
            select(
                CoachingAgreement.activity_id,
                CoachingAgreement.coach_id,
                CoachingAgreement.coachee_id,
            ).where(CoachingAgreement.activity_id.in_(pairs))
        )
    ).all():
        await tombstones.delete_where(
            session,
            CoachingSession,
            CoachingSession.trust_id == trust,
            CoachingSession.activity_id == activity_id,
            parent=CoachingSession.activity_id,
            visible_to=[coach_id, coachee_id],
        )
    await session.execute(
        delete(CoachingAgreement).where(
            CoachingAgreement.trust_id == trust,
            or_(CoachingAgreement.coach_id == person, CoachingAgreement.coachee_id == person),
        )
    )
