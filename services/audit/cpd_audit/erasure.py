"""Right to erasure in the audit service's free text: every column people write in, where an
erased person's name may appear, and the scrub that replaces it (run with the projection's
name before the projection row goes; see :func:`cpd_common.directory.directory_handlers`).

Rows about the person themself (their career plans, individual needs, participation) are
deleted by :func:`erase_person_plans` and the responses service.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.models import CareerPlan, CareerPlanShare, CpdPlanRow, Need, Person, Tombstone
from cpd_common import tombstones
from cpd_common.erasure import FreeText, scrub_name
from cpd_common.events.catalogue import PersonErased

FORMER_STAFF = "a former member of staff"
_IN_TRUST_AUDITS = "audit_id IN (SELECT id FROM audits WHERE trust_id = :trust)"
_IN_TRUST_INSTRUMENTS = "instrument_id IN (SELECT id FROM instruments WHERE trust_id = :trust)"

FREE_TEXT = (
    # needs register
    FreeText("needs", "title"),
    FreeText("needs", "description"),
    FreeText("needs", "team_name"),
    FreeText("needs", "outcome_short_term"),
    FreeText("needs", "outcome_medium_term"),
    FreeText("needs", "outcome_long_term"),
    FreeText("needs", "evidence", json=True),
    # alignment framework and strategic CPD plan
    FreeText("alignment_plans", "title"),
    FreeText("alignment_plans", "notes"),
    FreeText("alignment_plans", "grid", json=True),
    FreeText("cpd_plans", "title"),
    FreeText("cpd_plans", "notes"),
    FreeText("cpd_plan_rows", "activity"),
    FreeText("cpd_plan_rows", "responsible"),
    FreeText("cpd_plan_rows", "notes"),
    # other people's career plans (a mentor, a colleague named in an action plan)
    FreeText("career_plans", "title"),
    FreeText("career_plans", "came_from", json=True),
    FreeText("career_plans", "where_i_am", json=True),
    FreeText("career_plans", "aims_three_years", json=True),
    FreeText("career_plans", "aims_five_years", json=True),
    FreeText("career_plans", "strengths", json=True),
    FreeText("career_plans", "aspects_to_develop", json=True),
    FreeText("career_plans", "action_plan", json=True),
    # audits, the trust's own instruments, and comments in anonymous answers
    FreeText("audits", "title"),
    FreeText("audits", "description"),
    FreeText("instruments", "title"),
    FreeText("instruments", "description"),
    FreeText("instrument_versions", "title", where=_IN_TRUST_INSTRUMENTS),
    FreeText("instrument_versions", "description", where=_IN_TRUST_INSTRUMENTS),
    FreeText("instrument_versions", "sections", where=_IN_TRUST_INSTRUMENTS, json=True),
    FreeText("instrument_versions", "items", where=_IN_TRUST_INSTRUMENTS, json=True),
    FreeText("audit_answers", "text", where=_IN_TRUST_AUDITS),
)


async def scrub_erased_name(session: AsyncSession, payload: PersonErased, name: str | None) -> None:
    """Takes the person's name out of every free-text column of their trust. A planned
    activity the person was responsible for names "a former member of staff" whatever was
    typed (initials, a nickname), since the row pointed at them."""
    await session.execute(
        text(
            "UPDATE cpd_plan_rows SET responsible = :replacement "
            "WHERE trust_id = :trust AND responsible_person_id = :person"
        ),
        {"replacement": FORMER_STAFF, "trust": payload.trust_id, "person": payload.person_id},
    )
    await scrub_name(
        session,
        name=name,
        person_id=payload.person_id,
        trust_id=payload.trust_id,
        columns=FREE_TEXT,
        replacement=FORMER_STAFF,
    )


async def erase_person_plans(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Right to erasure: the person's career plans (and their shares), the shares they hold
    as a mentor and their individual needs go; where they are only named (who recorded a
    need, who is responsible for a planned activity) the reference is cleared. Runs while the
    person's projection row is still there (the worker's ``before_erased``): the needs'
    tombstones go to their line manager, read from it."""
    await session.execute(delete(CareerPlanShare).where(CareerPlanShare.mentor_id == person_id))
    # Private: the tombstones go to the owner and the mentors who could still read the plans.
    plans = (
        await session.scalars(select(CareerPlan.id).where(CareerPlan.owner_id == person_id))
    ).all()
    all_mentors: set[uuid.UUID] = set()
    for plan_id in plans:
        mentors = list(
            await session.scalars(
                select(CareerPlanShare.mentor_id).where(CareerPlanShare.plan_id == plan_id)
            )
        )
        all_mentors.update(mentors)
        await tombstones.delete_where(
            session,
            CareerPlan,
            CareerPlan.id == plan_id,
            readers=[CareerPlan.owner_id],
            visible_to=mentors,
        )
    manager = await session.scalar(select(Person.line_manager_id).where(Person.id == person_id))
    gone = (
        await session.execute(
            delete(Need)
            .where(Need.level == "individual", Need.person_id == person_id)
            .returning(Need.id, Need.trust_id, Need.school_id)
        )
    ).all()
    # Sync clients learn the needs went, each told only if they could read an individual need
    # (needs.service.visible): trust admins, the school's leaders, the person's line manager
    # and mentors.
    for trust_id, school_id in {(t, s) for _, t, s in gone}:
        await tombstones.record(
            session,
            Tombstone,
            resource="needs",
            ids=[i for i, t, s in gone if (t, s) == (trust_id, school_id)],
            trust_id=trust_id,
            visible_to=tombstones.audience(
                people=[person_id, manager, *all_mentors],
                roles=("trust_admin",),
                school_roles=("school_leader",),
                schools=[school_id] if school_id is not None else [],
            ),
        )
    await session.execute(
        update(Need).where(Need.recorded_by == person_id).values(recorded_by=None)
    )
    await session.execute(
        update(CpdPlanRow)
        .where(CpdPlanRow.responsible_person_id == person_id)
        .values(responsible_person_id=None)
    )
