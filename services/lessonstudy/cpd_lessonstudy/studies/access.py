"""Who may see and change a lesson study.

Members read and write their study; school leaders of the schools involved read it; trust
admins read every study of their trust; everyone else gets 404, exactly as for a missing
study. Every other aggregate of the service goes through :func:`get_access`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, cast, exists, false, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common.auth import Principal, Role
from cpd_lessonstudy.models import LessonStudy, StudyMember
from cpd_lessonstudy.studies.errors import MembersOnly, StudyClosed, StudyNotFound

# Roles that can ever see lesson studies (governors and API clients cannot).
STUDY_ROLES: tuple[Role, ...] = ("staff", "school_leader", "trust_admin")
CLOSED = frozenset({"completed", "shared"})


@dataclass(frozen=True)
class Access:
    """A study the caller may see, with the caller's membership when they have one."""

    study: LessonStudy
    member: StudyMember | None

    @property
    def member_id(self) -> uuid.UUID | None:
        return self.member.id if self.member is not None else None


def _reads_as_leader(study: LessonStudy, principal: Principal) -> bool:
    return principal.has_any("school_leader") and not principal.school_ids.isdisjoint(
        study.school_ids
    )


async def get_access(
    session: AsyncSession,
    study_id: uuid.UUID,
    *,
    principal: Principal,
    write: bool = False,
) -> Access:
    """The study (locked for the transaction when ``write``) and the caller's membership.

    404 when the study is missing, in another trust or not visible to the caller; 403 when
    the caller may read it but is not a member and wants to change it.
    """
    if principal.person_id is not None:
        is_caller = StudyMember.person_id == principal.person_id
    else:
        is_caller = false()
    stmt = (
        select(LessonStudy, StudyMember)
        .outerjoin(StudyMember, and_(StudyMember.study_id == LessonStudy.id, is_caller))
        .where(LessonStudy.id == study_id, LessonStudy.trust_id == principal.trust_id)
    )
    if write:
        stmt = stmt.with_for_update(of=LessonStudy)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise StudyNotFound()
    study, member = row
    if member is None and not (principal.is_trust_admin or _reads_as_leader(study, principal)):
        raise StudyNotFound()
    if write and member is None:
        raise MembersOnly("You can read this lesson study but only its members can change it.")
    return Access(study=study, member=member)


def ensure_open(study: LessonStudy) -> None:
    """Completed (and shared) studies are a record: their content no longer changes."""
    if study.status in CLOSED:
        raise StudyClosed(
            f"The lesson study is {study.status}; its record can no longer be changed."
        )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """SQL filter: the studies of the caller's trust the caller may read."""
    if principal.is_trust_admin:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if principal.person_id is not None:
        conditions.append(
            exists().where(
                StudyMember.study_id == LessonStudy.id,
                StudyMember.person_id == principal.person_id,
            )
        )
    if principal.has_any("school_leader") and principal.school_ids:
        conditions.append(
            LessonStudy.school_ids.overlap(cast(sorted(principal.school_ids), ARRAY(Uuid)))
        )
    return or_(*conditions) if conditions else false()
