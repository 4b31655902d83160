"""An audit's audience, frozen when it opens (DESIGN.md section 7).

Opening takes a snapshot of the scope's eligible staff (active, in an audience staff group and
in a school of the scope) with the coarse attributes their response will carry. Only people
in the snapshot may respond, and their response carries the snapshot's attributes: people
created or moved in the directory afterwards change nothing, so nobody can pad a small group
with made-up respondents once answers come in. The audience size is the snapshot's size.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, case, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.models import Audit, AuditAudienceMember, AuditParticipation, Person

LEADER_ROLES = ("school_leader", "trust_admin")
NOT_IN_DIRECTORY = "You are not in the staff directory of this trust."
NOT_IN_AUDIENCE = (
    "You were not in this audit's audience when it opened (its staff groups and schools as "
    "they were then); people who join or move afterwards answer the next round."
)


def _eligible(audit: Audit) -> ColumnElement[bool]:
    clause = and_(
        Person.trust_id == audit.trust_id,
        Person.active.is_(True),
        Person.staff_group.in_(list(audit.audience_groups)),
    )
    if audit.scope_kind != "trust":
        clause = and_(clause, Person.school_ids.overlap(list(audit.school_ids)))
    return clause


async def freeze(session: AsyncSession, audit: Audit) -> int:
    """Stores the audience snapshot of an audit that is opening; returns its size."""
    schools = func.unnest(Person.school_ids).table_valued("s").render_derived()
    in_scope = select(schools.c.s).order_by(schools.c.s).limit(1)
    if audit.scope_kind != "trust":
        in_scope = in_scope.where(schools.c.s.in_(list(audit.school_ids)))
    leadership = case(
        (
            (Person.staff_group == "leader") | Person.roles.overlap(list(LEADER_ROLES)),
            literal("leader"),
        ),
        else_=literal("staff"),
    )
    snapshot = select(
        literal(audit.id),
        Person.id,
        literal(audit.trust_id),
        in_scope.scalar_subquery(),
        Person.staff_group,
        Person.department,
        Person.career_stage,
        leadership,
    ).where(_eligible(audit))
    await session.execute(
        insert(AuditAudienceMember)
        .from_select(
            [
                "audit_id",
                "person_id",
                "trust_id",
                "school_id",
                "staff_group",
                "department",
                "career_stage",
                "leadership",
            ],
            snapshot,
        )
        .on_conflict_do_nothing()
    )
    return int(
        await session.scalar(
            select(func.count())
            .select_from(AuditAudienceMember)
            .where(AuditAudienceMember.audit_id == audit.id)
        )
        or 0
    )


async def member(
    session: AsyncSession, audit: Audit, person_id: uuid.UUID | None
) -> AuditAudienceMember | None:
    if person_id is None:
        return None
    return await session.get(AuditAudienceMember, (audit.id, person_id))


def awaiting(person_id: uuid.UUID) -> ColumnElement[bool]:
    """Audits (as a WHERE clause on :class:`Audit`) that are open, whose frozen audience
    holds this person, and that they have not answered."""
    return and_(
        Audit.status == "open",
        Audit.id.in_(
            select(AuditAudienceMember.audit_id).where(AuditAudienceMember.person_id == person_id)
        ),
        Audit.id.not_in(
            select(AuditParticipation.audit_id).where(AuditParticipation.person_id == person_id)
        ),
    )


async def mine(
    session: AsyncSession, audit_ids: list[uuid.UUID], person_id: uuid.UUID
) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Of these audits, those whose frozen audience holds the person, and those they have
    answered."""
    members = set(
        await session.scalars(
            select(AuditAudienceMember.audit_id).where(
                AuditAudienceMember.person_id == person_id,
                AuditAudienceMember.audit_id.in_(audit_ids),
            )
        )
    )
    responded = set(
        await session.scalars(
            select(AuditParticipation.audit_id).where(
                AuditParticipation.person_id == person_id,
                AuditParticipation.audit_id.in_(audit_ids),
            )
        )
    )
    return members, responded


async def erase(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Right to erasure: the person leaves every audience snapshot (the frozen size stays)."""
    await session.execute(
        delete(AuditAudienceMember).where(AuditAudienceMember.person_id == person_id)
    )
