"""The end of a study: agreed findings (in_cycle -> findings), completion (findings ->
completed, publishing ``lessonstudy.study.completed``) and the open-house lesson (completed ->
shared)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, utcnow
from cpd_common.events import catalogue
from cpd_lessonstudy.case_pupils import service as case_pupils_service
from cpd_lessonstudy.findings.errors import FindingsNotFound, InvalidFindings, OpenHouseNotFound
from cpd_lessonstudy.findings.schemas import (
    FindingsInput,
    FindingsRead,
    OpenHouseInput,
    WhatWorkedRead,
)
from cpd_lessonstudy.models import (
    CasePupil,
    LessonStudy,
    OpenHouseLesson,
    ResearchLesson,
    StudyFindings,
)
from cpd_lessonstudy.research_lessons import service as lessons_service
from cpd_lessonstudy.studies.access import ensure_open, get_access
from cpd_lessonstudy.studies.errors import IllegalTransition
from cpd_lessonstudy.time_records import service as time_service


async def findings_of(session: AsyncSession, study_id: uuid.UUID) -> StudyFindings | None:
    return await session.scalar(select(StudyFindings).where(StudyFindings.study_id == study_id))


async def findings_read(
    session: AsyncSession, study: LessonStudy, findings: StudyFindings
) -> FindingsRead:
    labels = await case_pupils_service.labels_of(session, study.id)
    return FindingsRead(
        study_id=study.id,
        summary=findings.summary,
        practices=list(findings.practices),
        what_worked=[
            WhatWorkedRead(
                case_pupil_ids=[uuid.UUID(i) for i in w["case_pupil_ids"]],
                case_pupil_labels=[labels.get(uuid.UUID(i), "?") for i in w["case_pupil_ids"]],
                text=w["text"],
            )
            for w in findings.what_worked
        ],
        to_share=list(findings.to_share),
        agreed_at=study.findings_agreed_at,
        updated_at=findings.updated_at,
    )


async def get_findings(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> FindingsRead | None:
    study = (await get_access(session, study_id, principal=principal)).study
    findings = await findings_of(session, study_id)
    return None if findings is None else await findings_read(session, study, findings)


async def require_findings(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> FindingsRead:
    read = await get_findings(session, study_id, principal=principal)
    if read is None:
        raise FindingsNotFound("The group has not agreed its findings yet.")
    return read


async def agree_findings(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal, data: FindingsInput
) -> tuple[StudyFindings, bool]:
    """Records (or rewrites) the findings. The first time moves the study from in_cycle to
    findings, once at least one cycle is completed and none is left half done."""
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    ensure_open(study)
    if study.status == "planning":
        raise IllegalTransition(
            "The study has not started: findings come after at least one research-lesson cycle."
        )
    if study.status == "in_cycle":
        latest = await lessons_service.latest_lesson(session, study.id)
        if latest is None:
            raise IllegalTransition(
                "No research lesson yet: findings come after at least one completed cycle."
            )
        if latest.status != "completed":
            raise IllegalTransition(
                f"Research lesson {latest.cycle} is {latest.status}: complete its cycle (or "
                "withdraw it if it will not be taught) before agreeing findings."
            )
    pupil_ids = set(
        (await session.scalars(select(CasePupil.id).where(CasePupil.study_id == study.id))).all()
    )
    errors = [
        {
            "loc": f"body.what_worked.{i}.case_pupil_ids",
            "msg": f"{p} is not a case pupil of this study",
        }
        for i, w in enumerate(data.what_worked)
        for p in w.case_pupil_ids
        if p not in pupil_ids
    ]
    if errors:
        raise InvalidFindings("Unknown case pupil.", errors=errors)
    values = {
        "summary": data.summary,
        "practices": list(data.practices),
        "what_worked": [
            {"case_pupil_ids": [str(p) for p in w.case_pupil_ids], "text": w.text}
            for w in data.what_worked
        ],
        "to_share": list(data.to_share),
    }
    findings = await findings_of(session, study.id)
    created = findings is None
    if findings is None:
        findings = StudyFindings(study_id=study.id, trust_id=study.trust_id, **values)
        session.add(findings)
    else:
        for name, value in values.items():
            setattr(findings, name, value)
        findings.updated_at = utcnow()
    if study.status == "in_cycle":
        study.status = "findings"
        study.findings_agreed_at = utcnow()
    await session.flush()
    return findings, created


def findings_statements(findings: StudyFindings, labels: dict[uuid.UUID, str]) -> list[str]:
    """The findings as plain statements (for the study.completed event)."""
    out = []
    if findings.summary:
        out.append(findings.summary)
    out.extend(findings.practices)
    for w in findings.what_worked:
        who = ", ".join(labels.get(uuid.UUID(i), "?") for i in w["case_pupil_ids"])
        out.append(f"Worked for case pupil(s) {who}: {w['text']}")
    out.extend(f"To share: {s}" for s in findings.to_share)
    return out


async def complete_study(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> LessonStudy:
    """findings -> completed. Publishes ``lessonstudy.study.completed`` with the findings and
    every member's total hours."""
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    if study.status != "findings":
        raise IllegalTransition(
            f"The study is {study.status}: a study is completed once its findings are agreed "
            "(PUT .../findings)."
        )
    findings = await findings_of(session, study.id)
    assert findings is not None
    labels = await case_pupils_service.labels_of(session, study.id)
    cycles = int(
        await session.scalar(
            select(func.count()).where(
                ResearchLesson.study_id == study.id, ResearchLesson.status == "completed"
            )
        )
        or 0
    )
    hours = await time_service.member_hours(session, study.id)
    study.status = "completed"
    study.completed_at = utcnow()
    await session.flush()
    events.add(
        session,
        catalogue.StudyCompleted(
            study_id=study.id,
            trust_id=study.trust_id,
            school_ids=list(study.school_ids),
            cycles_completed=cycles,
            findings=findings_statements(findings, labels),
            hours=[catalogue.MemberHours(person_id=h.person_id, hours=h.hours) for h in hours],
        ),
    )
    return study


async def record_open_house(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal, data: OpenHouseInput
) -> OpenHouseLesson:
    """completed -> shared: the group teaches an open-house research lesson for colleagues."""
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    if study.status != "completed":
        raise IllegalTransition(
            "The open-house lesson shares a completed study's findings: "
            + (
                "it has already been held."
                if study.status == "shared"
                else f"this study is {study.status}; agree the findings and complete it first."
            )
        )
    if data.held_on > datetime.now(UTC).date():
        raise InvalidFindings(
            "Record the open-house lesson once it has been held.",
            errors=[{"loc": "body.held_on", "msg": "in the future"}],
        )
    lesson = OpenHouseLesson(
        study_id=study.id,
        trust_id=study.trust_id,
        held_on=data.held_on,
        audience_count=data.audience_count,
        notes=data.notes,
    )
    session.add(lesson)
    study.status = "shared"
    study.shared_at = utcnow()
    await session.flush()
    return lesson


async def get_open_house(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> OpenHouseLesson:
    await get_access(session, study_id, principal=principal)
    return await scalar_or_raise(
        session,
        select(OpenHouseLesson).where(OpenHouseLesson.study_id == study_id),
        OpenHouseNotFound,
    )
