"""Which of the six components an enquiry has reached, and the rules between them: no data
before the enquiry starts, no analysis before data, no validity checking, replication,
reporting or completion before analysis."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_lessonstudy.enquiries.errors import StageRule
from cpd_lessonstudy.enquiries.schemas import STAGES, Stage
from cpd_lessonstudy.models.enquiries import (
    Enquiry,
    EnquiryDataEntry,
    EnquiryDissemination,
    EnquiryFinding,
    EnquiryReplication,
    EnquiryValidityCheck,
)


@dataclass(frozen=True)
class Progress:
    data_entries: int = 0
    findings: int = 0
    validity_checks: int = 0
    replications: int = 0
    disseminations: int = 0

    def reached(self) -> list[Stage]:
        done = {
            "question": True,
            "data_collection": self.data_entries > 0,
            "analysis": self.findings > 0,
            "validity_checking": self.validity_checks > 0,
            "replication": self.replications > 0,
            "reporting": self.disseminations > 0,
        }
        return [s for s in STAGES if done[s]]


async def progress_of(
    session: AsyncSession, enquiry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Progress]:
    """Records per component for several enquiries, in one query."""
    if not enquiry_ids:
        return {}
    parts = [
        select(model.enquiry_id, literal(name).label("part"), func.count().label("n"))
        .where(model.enquiry_id.in_(enquiry_ids))
        .group_by(model.enquiry_id)
        for name, model in (
            ("data_entries", EnquiryDataEntry),
            ("findings", EnquiryFinding),
            ("validity_checks", EnquiryValidityCheck),
            ("replications", EnquiryReplication),
            ("disseminations", EnquiryDissemination),
        )
    ]
    counts: dict[uuid.UUID, dict[str, int]] = {i: {} for i in enquiry_ids}
    for enquiry_id, part, n in (await session.execute(union_all(*parts))).all():
        counts[enquiry_id][part] = int(n)
    return {i: Progress(**c) for i, c in counts.items()}


_NEEDS: dict[str, tuple[str, str]] = {
    # stage -> (the stage it rests on, what to do first)
    "data_collection": (
        "question",
        "start the enquiry (POST .../start) once the question is framed",
    ),
    "analysis": ("data_collection", "record at least one piece of collected data first"),
    "validity_checking": ("analysis", "record at least one finding from your analysis first"),
    "replication": ("analysis", "record at least one finding from the analysis first"),
    "reporting": ("analysis", "record at least one finding from your analysis first"),
}


async def ensure_stage(session: AsyncSession, enquiry: Enquiry, stage: str, action: str) -> None:
    """409 when ``stage``'s prerequisite is not reached: no analysis before data, no
    validity checking, replication or reporting before analysis."""
    needed, advice = _NEEDS[stage]
    if needed == "question":
        if enquiry.status == "planning":
            raise StageRule(f"You cannot {action} yet: {advice}.")
        return
    reached = (await progress_of(session, [enquiry.id]))[enquiry.id].reached()
    if needed not in reached:
        raise StageRule(
            f"You cannot {action} before the enquiry reaches {needed.replace('_', ' ')}: {advice}.",
            errors=[{"loc": "stage", "msg": f"{stage} needs {needed}"}],
        )
