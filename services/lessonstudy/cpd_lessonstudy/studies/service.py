"""Lesson studies: creation, listing, changes, starting the cycles, and the next step."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import directory, events
from cpd_common.auth import Principal
from cpd_common.db import utcnow, where_given
from cpd_common.events import catalogue
from cpd_common.pagination import sort_param, text_search
from cpd_common.schemas import from_row
from cpd_lessonstudy.members import service as members_service
from cpd_lessonstudy.models import (
    CasePupil,
    Discussion,
    LessonStage,
    LessonStudy,
    Prediction,
    ResearchLesson,
    School,
    StudyMember,
)
from cpd_lessonstudy.studies.access import STUDY_ROLES, ensure_open, get_access, visible_to
from cpd_lessonstudy.studies.errors import CannotCreateStudy, IllegalTransition, InvalidStudy
from cpd_lessonstudy.studies.schemas import StudyCreate, StudyRead, StudyUpdate


async def _check_schools(
    session: AsyncSession, school_ids: list[uuid.UUID], *, principal: Principal
) -> None:
    await directory.check_schools(
        session,
        School,
        school_ids,
        principal=principal,
        invalid=InvalidStudy,
        what="A lesson study",
    )


async def create_study(
    session: AsyncSession, *, principal: Principal, data: StudyCreate
) -> LessonStudy:
    """Creates a study in planning. The creator joins as facilitator unless they list
    themselves: only members can change a study."""
    if principal.person_id is None or not principal.has_any(*STUDY_ROLES):
        raise CannotCreateStudy(
            "Lesson studies are created by staff, school leaders and trust admins."
        )
    await _check_schools(session, data.school_ids, principal=principal)
    listed = [m.person_id for m in data.members]
    if len(set(listed)) != len(listed):
        raise InvalidStudy(
            "A person can be listed once.",
            errors=[{"loc": "body.members", "msg": "duplicate person"}],
        )
    study = LessonStudy(
        trust_id=principal.trust_id,
        title=data.title,
        school_ids=data.school_ids,
        subject=data.subject,
        year_group=data.year_group,
        learning_goal=data.learning_goal,
        success_evidence=data.success_evidence,
        technique=data.technique,
        research_question=data.research_question,
        planned_cycles=data.planned_cycles,
        status="planning",
        created_by=principal.person_id,
    )
    session.add(study)
    await session.flush()
    if principal.person_id not in listed:
        # The creator joins so that someone can change the study; as knowledgeable other when
        # they are not at one of its schools (a trust admin setting up a study, say).
        role = (
            "facilitator"
            if not principal.school_ids.isdisjoint(study.school_ids)
            else ("knowledgeable_other")
        )
        await members_service.add_member_row(
            session, study=study, person_id=principal.person_id, role=role, loc="creator"
        )
    for i, m in enumerate(data.members):
        await members_service.add_member_row(
            session, study=study, person_id=m.person_id, role=m.role, loc=f"body.members.{i}"
        )
    return study


# ``?sort=`` of ``GET /v1/lesson-studies``.
SORTS = sort_param(
    {
        "title": func.lower(LessonStudy.title),
        "created_at": LessonStudy.created_at,
        "updated_at": LessonStudy.updated_at,
        "started_at": LessonStudy.started_at,
    }
)


def list_query(
    *,
    principal: Principal,
    school_id: uuid.UUID | None = None,
    status: str | None = None,
    member: uuid.UUID | None = None,
    subject: str | None = None,
    q: str | None = None,
) -> Select[LessonStudy]:
    stmt = select(LessonStudy).where(
        LessonStudy.trust_id == principal.trust_id, visible_to(principal)
    )
    search = text_search(
        q,
        LessonStudy.title,
        LessonStudy.subject,
        LessonStudy.learning_goal,
        LessonStudy.research_question,
    )
    if search is not None:
        stmt = stmt.where(search)
    if school_id is not None:
        stmt = stmt.where(LessonStudy.school_ids.contains([school_id]))
    stmt = where_given(stmt, (LessonStudy.status, status))
    if member is not None:
        stmt = stmt.where(
            exists().where(StudyMember.study_id == LessonStudy.id, StudyMember.person_id == member)
        )
    if subject is not None:
        stmt = stmt.where(func.lower(LessonStudy.subject) == subject.strip().lower())
    return stmt


async def get_study(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> LessonStudy:
    return (await get_access(session, study_id, principal=principal)).study


async def update_study(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal, data: StudyUpdate
) -> LessonStudy:
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    ensure_open(study)
    changes = data.model_dump(exclude_unset=True)
    if "school_ids" in changes and set(changes["school_ids"]) != set(study.school_ids):
        if study.status != "planning":
            raise IllegalTransition(
                "The study's schools can only change while it is being planned."
            )
        await _check_schools(session, changes["school_ids"], principal=principal)
    if "planned_cycles" in changes:
        done = await _cycles_completed(session, study.id)
        if changes["planned_cycles"] < done:
            raise InvalidStudy(
                f"{done} cycles are already completed; plan at least that many.",
                errors=[{"loc": "body.planned_cycles", "msg": f"must be at least {done}"}],
            )
    for name, value in changes.items():
        setattr(study, name, value)
    await session.flush()
    return study


async def _cycles_completed(session: AsyncSession, study_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                ResearchLesson.study_id == study_id, ResearchLesson.status == "completed"
            )
        )
        or 0
    )


async def start_study(
    session: AsyncSession, study_id: uuid.UUID, *, principal: Principal
) -> LessonStudy:
    """planning -> in_cycle, once the group and its case pupils are fixed. Publishes
    ``lessonstudy.study.started``."""
    study = (await get_access(session, study_id, principal=principal, write=True)).study
    if study.status != "planning":
        raise IllegalTransition(
            f"The study is already {study.status}; only a study in planning can start."
        )
    members = (await members_service.members_of(session, [study.id]))[study.id]
    active = [m for m in members if not m.former_member]
    pupils = int(
        await session.scalar(select(func.count()).where(CasePupil.study_id == study.id)) or 0
    )
    missing = []
    if pupils == 0:
        missing.append({"loc": "case_pupils", "msg": "choose the case pupils (usually A, B and C)"})
    if len(active) < 2:
        missing.append({"loc": "members", "msg": "a lesson study needs at least two members"})
    if not any(m.role == "teacher" for m in active):
        missing.append({"loc": "members", "msg": "no member has the teacher role"})
    if missing:
        raise IllegalTransition(
            "The study cannot start yet: " + "; ".join(e["msg"] for e in missing) + ".",
            errors=missing,
        )
    study.status = "in_cycle"
    study.started_at = utcnow()
    await session.flush()
    events.add(
        session,
        catalogue.StudyStarted(
            study_id=study.id,
            trust_id=study.trust_id,
            school_ids=list(study.school_ids),
            title=study.title,
            subject=study.subject,
            year_group=study.year_group,
            focus=focus_of(study),
            research_question=study.research_question,
            members=[catalogue.StudyMember(person_id=m.person_id, role=m.role) for m in active],
            planned_cycles=study.planned_cycles,
        ),
    )
    return study


def focus_of(study: LessonStudy) -> str:
    if study.technique:
        return f"{study.learning_goal} (technique: {study.technique})"
    return study.learning_goal


# ---- read model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Progress:
    cycles_completed: int = 0
    case_pupils: int = 0
    latest_cycle: int | None = None
    latest_status: str | None = None
    missing_predictions: int = 0
    discussion_started: bool = False
    change_agreed: bool = False


async def _progress(
    session: AsyncSession, study_ids: list[uuid.UUID]
) -> dict[uuid.UUID, _Progress]:
    if not study_ids:
        return {}
    pupils = dict(
        (
            await session.execute(
                select(CasePupil.study_id, func.count())
                .where(CasePupil.study_id.in_(study_ids))
                .group_by(CasePupil.study_id)
            )
        ).all()
    )
    completed = dict(
        (
            await session.execute(
                select(ResearchLesson.study_id, func.count())
                .where(ResearchLesson.study_id.in_(study_ids), ResearchLesson.status == "completed")
                .group_by(ResearchLesson.study_id)
            )
        ).all()
    )
    stages = (
        select(func.count()).where(LessonStage.lesson_id == ResearchLesson.id).scalar_subquery()
    )
    predicted = (
        select(func.count()).where(Prediction.lesson_id == ResearchLesson.id).scalar_subquery()
    )
    latest = (
        await session.execute(
            select(
                ResearchLesson.study_id,
                ResearchLesson.cycle,
                ResearchLesson.status,
                stages,
                predicted,
                Discussion.id,
                Discussion.what_to_change,
            )
            .outerjoin(Discussion, Discussion.lesson_id == ResearchLesson.id)
            .where(ResearchLesson.study_id.in_(study_ids))
            .ext(distinct_on(ResearchLesson.study_id))
            .order_by(ResearchLesson.study_id, ResearchLesson.cycle.desc())
        )
    ).all()
    by_study = {row[0]: row for row in latest}
    out = {}
    for sid in study_ids:
        n_pupils = int(pupils.get(sid, 0))
        row = by_study.get(sid)
        if row is None:
            out[sid] = _Progress(int(completed.get(sid, 0)), n_pupils)
            continue
        _, cycle, status, n_stages, n_predicted, discussion_id, change = row
        out[sid] = _Progress(
            cycles_completed=int(completed.get(sid, 0)),
            case_pupils=n_pupils,
            latest_cycle=cycle,
            latest_status=status,
            missing_predictions=max(int(n_stages) * n_pupils - int(n_predicted), 0),
            discussion_started=discussion_id is not None,
            change_agreed=change is not None,
        )
    return out


def next_step(study: LessonStudy, progress: _Progress, members: Sequence[object]) -> str | None:
    """A plain-language pointer to the next step of the process (what makes it easy to follow)."""
    p = progress
    if study.status == "planning":
        if p.case_pupils == 0:
            return (
                "Choose the case pupils (usually three, labelled A, B and C) with a profile, "
                "starting point and success criteria."
            )
        if len(members) < 2:
            return "Add the rest of the group: at least a teacher and an observer."
        return (
            "Start the study (POST .../start) once the group and the case pupils are fixed; "
            "you can already plan research lesson 1."
        )
    if study.status == "in_cycle":
        if p.latest_cycle is None:
            return (
                "Plan research lesson 1 together: its stages, and how you predict each case "
                "pupil will respond at each stage."
            )
        n = p.latest_cycle
        if p.latest_status == "planned":
            if p.missing_predictions:
                return (
                    f"Record predictions for research lesson {n} ({p.missing_predictions} "
                    "stage x case pupil cells still empty) before it is taught."
                )
            return (
                f"Teach research lesson {n} and mark it taught; observers record how each case "
                "pupil responds at each stage."
            )
        if p.latest_status == "taught":
            if not p.discussion_started:
                return (
                    f"Interview a few pupils, then hold the post-lesson discussion of lesson {n}, "
                    "starting from what you learnt about each case pupil."
                )
            if not p.change_agreed:
                return (
                    f"Finish the discussion of lesson {n}: reflect on every case pupil, then "
                    "agree what to change for the next lesson."
                )
            return f"Complete research lesson {n} (POST .../complete) when the discussion is done."
        if p.cycles_completed < study.planned_cycles:
            return f"Plan research lesson {n + 1} from the discussion of lesson {n}, with new predictions."
        return (
            "Agree the findings: practices discovered, what worked for which pupils, what to share."
        )
    if study.status == "findings":
        return "Complete the study (POST .../complete) when the write-up is agreed."
    if study.status == "completed":
        return "Teach an open-house lesson for colleagues and record it (POST .../open-house)."
    return None


async def study_reads(session: AsyncSession, studies: Sequence[LessonStudy]) -> list[StudyRead]:
    ids = [s.id for s in studies]
    members = await members_service.members_of(session, ids)
    progress = await _progress(session, ids)
    out = []
    for s in studies:
        ms = members[s.id]
        p = progress.get(s.id, _Progress())
        out.append(
            from_row(
                StudyRead,
                s,
                school_ids=list(s.school_ids),
                cycles_completed=p.cycles_completed,
                case_pupil_count=p.case_pupils,
                members=ms,
                next_step=next_step(s, p, [m for m in ms if not m.former_member]),
            )
        )
    return out


async def study_read(session: AsyncSession, study: LessonStudy) -> StudyRead:
    return (await study_reads(session, [study]))[0]
