"""Case pupils: the few pupils (usually three) whose learning the group follows closely."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_lessonstudy.case_pupils.errors import (
    CasePupilInUse,
    CasePupilNotFound,
    LabelTaken,
    TooManyCasePupils,
)
from cpd_lessonstudy.case_pupils.schemas import CasePupilCreate, CasePupilUpdate
from cpd_lessonstudy.models import CasePupil, LessonStudy, Observation, Prediction
from cpd_lessonstudy.studies.access import ensure_open, get_access
from cpd_lessonstudy.studies.errors import IllegalTransition

MAX_CASE_PUPILS = 6


def _ensure_collecting(study: LessonStudy) -> None:
    ensure_open(study)
    if study.status == "findings":
        raise IllegalTransition(
            "The cycles are over (the group is agreeing findings): case pupils no longer change."
        )


async def _label_free(
    session: AsyncSession, study_id: uuid.UUID, label: str, *, but: uuid.UUID | None = None
) -> None:
    stmt = select(CasePupil.id).where(CasePupil.study_id == study_id, CasePupil.label == label)
    if but is not None:
        stmt = stmt.where(CasePupil.id != but)
    if await session.scalar(stmt) is not None:
        raise LabelTaken(f"Case pupil {label} already exists in this study.")


async def add_case_pupil(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal, data: CasePupilCreate
) -> CasePupil:
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    _ensure_collecting(study)
    count, last = (
        await session.execute(
            select(func.count(), func.coalesce(func.max(CasePupil.position), 0)).where(
                CasePupil.study_id == study_id
            )
        )
    ).one()
    if count >= MAX_CASE_PUPILS:
        raise TooManyCasePupils(
            f"A study follows at most {MAX_CASE_PUPILS} case pupils (usually three): close "
            "observation of each one is the point."
        )
    await _label_free(session, study_id, data.label)
    pupil = CasePupil(
        study_id=study_id,
        trust_id=study.trust_id,
        label=data.label,
        position=last + 1,
        profile=data.profile,
        starting_point=data.starting_point,
        success_criteria=data.success_criteria,
    )
    session.add(pupil)
    await session.flush()
    return pupil


def case_pupils_query(study_id: uuid.UUID) -> Select[CasePupil]:
    return select(CasePupil).where(CasePupil.study_id == study_id)


async def case_pupils_of(session: AsyncSession, study_id: uuid.UUID) -> list[CasePupil]:
    return list(
        (
            await session.scalars(
                case_pupils_query(study_id).order_by(CasePupil.position, CasePupil.id)
            )
        ).all()
    )


async def labels_of(session: AsyncSession, study_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Each case pupil's label (what reads show instead of a name), by id."""
    rows = await session.execute(
        select(CasePupil.id, CasePupil.label).where(CasePupil.study_id == study_id)
    )
    return {pupil_id: label for pupil_id, label in rows.all()}


async def load(session: AsyncSession, study_id: uuid.UUID, case_pupil_id: uuid.UUID) -> CasePupil:
    return await scalar_or_raise(
        session,
        select(CasePupil).where(CasePupil.id == case_pupil_id, CasePupil.study_id == study_id),
        CasePupilNotFound,
    )


async def get_case_pupil(
    session: AsyncSession, study_id: uuid.UUID, case_pupil_id: uuid.UUID, *, principal: Principal
) -> CasePupil:
    await get_access(session, study_id, principal=principal)
    return await load(session, study_id, case_pupil_id)


async def update_case_pupil(
    session: AsyncSession,
    study_id: uuid.UUID,
    case_pupil_id: uuid.UUID,
    *,
    principal: Principal,
    data: CasePupilUpdate,
) -> CasePupil:
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    _ensure_collecting(study)
    pupil = await load(session, study_id, case_pupil_id)
    changes = data.model_dump(exclude_unset=True)
    if "label" in changes:
        await _label_free(session, study_id, changes["label"], but=pupil.id)
    for name, value in changes.items():
        setattr(pupil, name, value)
    await session.flush()
    return pupil


async def remove_case_pupil(
    session: AsyncSession, study_id: uuid.UUID, case_pupil_id: uuid.UUID, *, principal: Principal
) -> None:
    """While planning only (a prediction for the pupil goes with them); once lessons are
    observed the pupil is part of the record."""
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    pupil = await load(session, study_id, case_pupil_id)
    if study.status != "planning":
        raise CasePupilInUse("Case pupils can only be removed while the study is being planned.")
    observed = await session.scalar(
        select(func.count()).where(Observation.case_pupil_id == pupil.id)
    )
    if observed:
        raise CasePupilInUse("This case pupil has been observed and is part of the record.")
    await session.execute(delete(Prediction).where(Prediction.case_pupil_id == pupil.id))
    await tombstones.delete_where(
        session, CasePupil, CasePupil.id == pupil.id, parent=CasePupil.study_id
    )
