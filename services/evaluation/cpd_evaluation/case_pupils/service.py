"""A plan's lesson studies (by study id) and what their case pupils show: per case pupil, the
stages whose success criteria they met in the study's first research lesson and in its last
(lessons ordered by cycle, then the day taught, then when their discussion was done)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal
from cpd_common.schemas import from_row
from cpd_evaluation.activities.access import leads
from cpd_evaluation.case_pupils.errors import InvalidLessonStudies
from cpd_evaluation.case_pupils.schemas import (
    CasePupilRead,
    CasePupilsRead,
    LessonPoint,
    LessonStudiesRead,
    LessonStudiesSet,
    LinkedStudy,
    StageCounts,
    StudyCasePupils,
)
from cpd_evaluation.models import Activity
from cpd_evaluation.models.measures import PlanLessonStudy
from cpd_evaluation.models.plans import EvaluationPlan

# Each linked study's first and last research lesson, and every case pupil's counts in them.
_FIRST_AND_LAST = text(
    """
    WITH lessons AS (
        SELECT DISTINCT lesson_id, study_id, cycle, taught_on, completed_at
        FROM case_pupil_lessons
        WHERE trust_id = :trust AND study_id = ANY(:studies)
    ), ranked AS (
        SELECT lesson_id, study_id, cycle, taught_on,
               row_number() OVER (PARTITION BY study_id
                   ORDER BY cycle, taught_on NULLS LAST, completed_at, lesson_id) AS from_first,
               row_number() OVER (PARTITION BY study_id
                   ORDER BY cycle DESC, taught_on DESC NULLS FIRST, completed_at DESC,
                            lesson_id DESC) AS from_last,
               count(*) OVER (PARTITION BY study_id) AS lessons
        FROM lessons
    )
    SELECT r.study_id, r.lesson_id, r.cycle, r.taught_on, r.lessons,
           r.from_first = 1 AS is_first, r.from_last = 1 AS is_last,
           c.label, c.starting_point, c.success_criteria, c.stages_total, c.stages_met,
           c.stages_partly, c.stages_not_yet
    FROM ranked r JOIN case_pupil_lessons c ON c.lesson_id = r.lesson_id
    WHERE r.from_first = 1 OR r.from_last = 1
    ORDER BY r.study_id, c.label
    """
).bindparams(bindparam("studies", type_=ARRAY(Uuid)), bindparam("trust", type_=Uuid))


async def _study_activities(
    session: AsyncSession, trust_id: uuid.UUID, study_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Activity]:
    """The lesson studies as the activities their events made, by study id."""
    if not study_ids:
        return {}
    return {
        a.source_id: a
        for a in await session.scalars(
            select(Activity).where(
                Activity.trust_id == trust_id,
                Activity.source == "lessonstudy",
                Activity.source_id.in_(study_ids),
            )
        )
        if a.source_id is not None
    }


async def set_studies(
    session: AsyncSession, plan: EvaluationPlan, *, principal: Principal, data: LessonStudiesSet
) -> None:
    """``plan`` was fetched for writing (locked) by the caller."""
    study_ids = list(dict.fromkeys(data.study_ids))
    found = await _study_activities(session, plan.trust_id, study_ids)
    errors = []
    for i, study_id in enumerate(study_ids):
        activity = found.get(study_id)
        if activity is None:
            errors.append({"loc": f"body.study_ids.{i}", "msg": "not a lesson study of your trust"})
        elif not principal.is_trust_admin and not leads(principal, activity.school_ids):
            errors.append(
                {"loc": f"body.study_ids.{i}", "msg": "not a lesson study of a school you lead"}
            )
    if errors:
        raise InvalidLessonStudies(
            "Link lesson studies of your trust (of a school you lead).", errors=errors
        )
    await session.execute(delete(PlanLessonStudy).where(PlanLessonStudy.plan_id == plan.id))
    session.add_all(
        PlanLessonStudy(plan_id=plan.id, study_id=s, trust_id=plan.trust_id) for s in study_ids
    )
    await session.flush()


async def _linked(session: AsyncSession, plan: EvaluationPlan) -> list[uuid.UUID]:
    return list(
        (
            await session.scalars(
                select(PlanLessonStudy.study_id)
                .where(
                    PlanLessonStudy.plan_id == plan.id, PlanLessonStudy.trust_id == plan.trust_id
                )
                .order_by(PlanLessonStudy.study_id)
            )
        ).all()
    )


async def studies_read(session: AsyncSession, plan: EvaluationPlan) -> LessonStudiesRead:
    study_ids = await _linked(session, plan)
    found = await _study_activities(session, plan.trust_id, study_ids)
    return LessonStudiesRead(
        plan_id=plan.id,
        items=[
            LinkedStudy(study_id=s, activity_id=found[s].id, title=found[s].title)
            for s in study_ids
            if s in found
        ],
    )


def _counts(row: Any) -> StageCounts:
    return StageCounts(
        stages=row.stages_total,
        met=row.stages_met,
        partly=row.stages_partly,
        not_yet=row.stages_not_yet,
    )


async def case_pupils(session: AsyncSession, plan: EvaluationPlan) -> CasePupilsRead:
    study_ids = await _linked(session, plan)
    found = await _study_activities(session, plan.trust_id, study_ids)
    rows = (
        await session.execute(_FIRST_AND_LAST, {"trust": plan.trust_id, "studies": study_ids})
    ).all()
    lessons: dict[uuid.UUID, int] = {}
    first: dict[uuid.UUID, LessonPoint] = {}
    last: dict[uuid.UUID, LessonPoint] = {}
    pupils: dict[uuid.UUID, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        lessons[row.study_id] = row.lessons
        point = from_row(LessonPoint, row)
        pupil = pupils[row.study_id].setdefault(
            row.label,
            {
                "label": row.label,
                "starting_point": row.starting_point,
                "success_criteria": row.success_criteria,
                "first": None,
                "last": None,
            },
        )
        if row.is_first:
            first[row.study_id] = point
            pupil["first"] = _counts(row)
        if row.is_last and row.lessons > 1:
            last[row.study_id] = point
            pupil["last"] = _counts(row)
            # The latest description of the pupil is the one the group settled on.
            pupil["starting_point"] = row.starting_point
            pupil["success_criteria"] = row.success_criteria
    studies = []
    for study_id in study_ids:
        if study_id not in found:
            continue
        reads = []
        for pupil in pupils[study_id].values():
            before, after = pupil["first"], pupil["last"]
            change = after.met - before.met if before and after else None
            reads.append(CasePupilRead(**pupil, met_change=change))
        studies.append(
            StudyCasePupils(
                study_id=study_id,
                title=found[study_id].title,
                lessons=lessons.get(study_id, 0),
                first_lesson=first.get(study_id),
                last_lesson=last.get(study_id),
                case_pupils=reads,
            )
        )
    return CasePupilsRead(plan_id=plan.id, studies=studies)
