"""Who may see and change a practitioner group: a classroom action enquiry or a learning
community. The rule is lesson study's: members read and write; school leaders of the schools
involved and trust admins read; everyone else gets 404, exactly as for a missing group."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, cast, exists, false, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.errors import NotFound
from cpd_lessonstudy.groups.errors import GroupMembersOnly
from cpd_lessonstudy.models.communities import CommunityMember, LearningCommunity
from cpd_lessonstudy.models.enquiries import Enquiry, EnquiryMember

P = TypeVar("P", Enquiry, LearningCommunity)


class EnquiryNotFound(NotFound):
    code, title = "enquiry-not-found", "Enquiry not found"


class CommunityNotFound(NotFound):
    code, title = "learning-community-not-found", "Learning community not found"


@dataclass(frozen=True)
class GroupKind(Generic[P]):
    """What differs between an enquiry and a learning community for access and membership."""

    parent: type[P]
    member: type[Any]
    fk: str  # the member table's column naming the parent
    not_found: type[NotFound]
    noun: str

    def member_parent(self) -> Any:
        return getattr(self.member, self.fk)


ENQUIRY: GroupKind[Enquiry] = GroupKind(
    Enquiry, EnquiryMember, "enquiry_id", EnquiryNotFound, "enquiry"
)
COMMUNITY: GroupKind[LearningCommunity] = GroupKind(
    LearningCommunity, CommunityMember, "community_id", CommunityNotFound, "learning community"
)


@dataclass(frozen=True)
class Access(Generic[P]):
    group: P
    member: Any | None

    @property
    def member_id(self) -> uuid.UUID | None:
        return self.member.id if self.member is not None else None


def reads_as_leader(school_ids: list[uuid.UUID], principal: Principal) -> bool:
    return principal.has_any("school_leader") and not principal.school_ids.isdisjoint(school_ids)


async def get_access(
    session: AsyncSession,
    kind: GroupKind[P],
    group_id: uuid.UUID,
    *,
    principal: Principal,
    write: bool = False,
) -> Access[P]:
    """The group (locked for the transaction when ``write``) and the caller's membership.

    404 when missing, in another trust or not visible to the caller; 403 when the caller may
    read it but is not a member and wants to change it.
    """
    parent, member = kind.parent, kind.member
    if principal.person_id is not None:
        is_caller = member.person_id == principal.person_id
    else:
        is_caller = false()
    stmt = (
        select(parent, member)
        .outerjoin(member, and_(kind.member_parent() == parent.id, is_caller))
        .where(parent.id == group_id, parent.trust_id == principal.trust_id)
    )
    if write:
        stmt = stmt.with_for_update(of=parent)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise kind.not_found()
    group, membership = row
    if membership is None and not (
        principal.is_trust_admin or reads_as_leader(group.school_ids, principal)
    ):
        raise kind.not_found()
    if write and membership is None:
        raise GroupMembersOnly(f"You can read this {kind.noun} but only its members can change it.")
    return Access(group=group, member=membership)


async def audience(session: AsyncSession, kind: GroupKind[Any], group: Any) -> list[uuid.UUID]:
    """Who can read ``group`` (as tombstone reader marks): its members, the leaders of its
    schools and trust admins, the rule of :func:`visible_to`."""
    members = await session.scalars(
        select(kind.member.person_id).where(kind.member_parent() == group.id)
    )
    return tombstones.audience(
        people=members,
        roles=("trust_admin",),
        school_roles=("school_leader",),
        schools=group.school_ids or [],
    )


def visible_to(kind: GroupKind[Any], principal: Principal) -> ColumnElement[bool]:
    """SQL filter: the groups of the caller's trust the caller may read."""
    if principal.is_trust_admin:
        return true()
    parent, member = kind.parent, kind.member
    conditions: list[ColumnElement[bool]] = []
    if principal.person_id is not None:
        conditions.append(
            exists().where(
                kind.member_parent() == parent.id, member.person_id == principal.person_id
            )
        )
    if principal.has_any("school_leader") and principal.school_ids:
        conditions.append(
            parent.school_ids.overlap(cast(sorted(principal.school_ids), ARRAY(Uuid)))
        )
    return or_(*conditions) if conditions else false()
