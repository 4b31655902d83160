"""Right to erasure for evaluations (``directory.person.erased``): the person stops being who
wrote, is responsible for or recorded support on a plan, and who set the trust's costing; their
name leaves the plans' and support records' free text with the rest (``participants.erasure``).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.erasure import FreeText
from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_evaluation.models.evidence import EvaluationSettings, SupportRecord
from cpd_evaluation.models.plans import EvaluationPlan

# Free text of plans and support records that may name a colleague (scrubbed with the others).
FREE_TEXT = [
    *(
        FreeText("evaluation_plans", column)
        for column in (
            "title",
            "design_note",
            "short_term_outcome",
            "medium_term_outcome",
            "reported_to",
            "leads_to_action",
        )
    ),
    *(
        FreeText("evaluation_plans", column, json=True)
        for column in ("baseline_data", "short_term_data", "medium_term_data")
    ),
    *(FreeText("support_records", column) for column in ("resources", "barriers", "notes")),
]


async def erase_person(
    session: AsyncSession, event: CloudEvent, payload: catalogue.PersonErased
) -> None:
    person, trust = payload.person_id, payload.trust_id
    for column in ("created_by", "responsible_id"):
        await session.execute(
            update(EvaluationPlan)
            .where(EvaluationPlan.trust_id == trust, getattr(EvaluationPlan, column) == person)
            .values({column: None})
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(SupportRecord)
        .where(SupportRecord.trust_id == trust, SupportRecord.recorded_by == person)
        .values(recorded_by=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(EvaluationSettings)
        .where(EvaluationSettings.trust_id == trust, EvaluationSettings.updated_by == person)
        .values(updated_by=None)
    )
