"""Case pupils' outcomes from ``lessonstudy.lesson.completed`` events: per research lesson and
case pupil, how many of the lesson's stages they met, partly met or had not yet met.

The event is set, never added: a redelivered or replayed lesson changes nothing, a corrected
one replaces its rows (a case pupil no longer in it goes), and a lesson never moves to another
trust. Case pupils are labels with a profile, never names.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.events import catalogue
from cpd_common.events.envelope import CloudEvent
from cpd_evaluation.models.measures import CasePupilLesson

LABEL_MAX = 100


async def lesson_completed(
    session: AsyncSession, event: CloudEvent, payload: catalogue.LessonCompleted
) -> None:
    rows = []
    for pupil in payload.case_pupils:
        outcomes = [s.outcome for s in pupil.stages]
        rows.append(
            {
                "lesson_id": payload.lesson_id,
                "label": pupil.label[:LABEL_MAX],
                "trust_id": payload.trust_id,
                "study_id": payload.study_id,
                "cycle": payload.cycle,
                "taught_on": payload.taught_on,
                "completed_at": event.time,
                "starting_point": pupil.starting_point,
                "success_criteria": pupil.success_criteria,
                "stages_total": len(outcomes),
                "stages_met": outcomes.count("met"),
                "stages_partly": outcomes.count("partly"),
                "stages_not_yet": outcomes.count("not_yet"),
            }
        )
    labels = [r["label"] for r in rows]
    await session.execute(
        delete(CasePupilLesson).where(
            CasePupilLesson.lesson_id == payload.lesson_id,
            CasePupilLesson.trust_id == payload.trust_id,
            CasePupilLesson.label.not_in(labels),
        )
    )
    if not rows:
        return
    stmt = insert(CasePupilLesson).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["lesson_id", "label"],
            set_={
                k: stmt.excluded[k] for k in rows[0] if k not in ("lesson_id", "label", "trust_id")
            },
            where=CasePupilLesson.trust_id == stmt.excluded.trust_id,
        )
    )
