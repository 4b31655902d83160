"""Right to erasure for measures (``directory.person.erased``): a member of staff's values on
staff measures are deleted (a staff measure keys them by person id, so keeping them would keep
the person); who created a measure or named a plan's audit rounds is forgotten. Pupil values
are keyed by pseudonyms and name no member of staff. Names in the free text below leave with
the rest (``participants.erasure``).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_evaluation.models.measures import Measure, Observation, PlanAuditRounds

# Free text of this module's tables that may name a colleague (scrubbed with the others).
TEXT_COLUMNS = {
    "measures": ("name", "scale_description"),
    "case_pupil_lessons": ("starting_point", "success_criteria"),
}


async def erase_staff_data(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    person, trust = payload.person_id, payload.trust_id
    await tombstones.delete_where(
        session,
        Observation,
        Observation.trust_id == trust,
        Observation.subject_key == str(person),
        Observation.measure_id.in_(
            select(Measure.id).where(Measure.trust_id == trust, Measure.subjects == "staff")
        ),
        parent=Observation.measure_id,
    )
    await session.execute(
        update(Measure)
        .where(Measure.trust_id == trust, Measure.created_by == person)
        .values(created_by=None)
    )
    await session.execute(
        update(PlanAuditRounds)
        .where(PlanAuditRounds.trust_id == trust, PlanAuditRounds.set_by == person)
        .values(set_by=None)
    )
