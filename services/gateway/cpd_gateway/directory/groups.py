"""Groups of people of a trust (optionally of one school): seen by leaders and trust
admins, changed by trust admins."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.errors import Forbidden, Unprocessable
from cpd_gateway.directory import errors, schemas
from cpd_gateway.directory.people import check_references
from cpd_gateway.directory.trusts import PROVISIONING_ROLE, manages_people, require_people_manager
from cpd_gateway.models import Group, Person


def groups_query(*, principal: Principal) -> Select[Any]:
    stmt = select(Group).where(Group.trust_id == principal.trust_id)
    if not manages_people(principal):
        if "school_leader" not in principal.roles:
            raise Forbidden("Only leaders and trust admins can see groups.")
        stmt = stmt.where(
            Group.school_id.is_(None) | Group.school_id.in_(list(principal.school_ids))
        )
    return stmt


async def get_group(session: AsyncSession, group_id: uuid.UUID, *, principal: Principal) -> Group:
    group = None
    if manages_people(principal) or principal.has_any("school_leader"):
        group = await session.scalar(groups_query(principal=principal).where(Group.id == group_id))
    if group is None:
        raise errors.GroupNotFound()
    return group


async def _check_members(session: AsyncSession, trust_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    known = set(
        (
            await session.scalars(
                select(Person.id).where(Person.trust_id == trust_id, Person.id.in_(ids))
            )
        ).all()
    )
    problems = [
        {"loc": f"body.member_ids.{i}", "msg": f"no person {pid} in this trust"}
        for i, pid in enumerate(ids)
        if pid not in known
    ]
    if problems:
        raise Unprocessable("Some members are not people of this trust.", errors=problems)


async def create_group(
    session: AsyncSession, data: schemas.GroupCreate, *, principal: Principal
) -> Group:
    require_people_manager(principal)
    await check_references(
        session,
        trust_id=principal.trust_id,
        school_ids=[data.school_id] if data.school_id else None,
        line_manager_id=None,
    )
    await _check_members(session, principal.trust_id, data.member_ids)
    group = Group(trust_id=principal.trust_id, **data.model_dump())
    group.member_ids = list(dict.fromkeys(data.member_ids))
    session.add(group)
    await session.flush()
    return group


async def update_group(
    session: AsyncSession, group: Group, data: schemas.GroupUpdate, *, principal: Principal
) -> Group:
    require_people_manager(principal)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("member_ids") is not None:
        await _check_members(session, group.trust_id, changes["member_ids"])
        changes["member_ids"] = list(dict.fromkeys(changes["member_ids"]))
    for key, value in changes.items():
        if key in {"name", "member_ids"} and value is None:
            continue
        setattr(group, key, value)
    group.updated_at = utcnow()
    await session.flush()
    return group


async def delete_group(session: AsyncSession, group: Group, *, principal: Principal) -> None:
    require_people_manager(principal)
    # A school's group is listed to people managers and that school's leaders (groups_query);
    # a trust-wide one to every leader.
    await tombstones.delete(
        session,
        group,
        visible_to=None
        if group.school_id is None
        else tombstones.audience(
            roles=("trust_admin", PROVISIONING_ROLE),
            school_roles=("school_leader",),
            schools=[group.school_id],
        ),
    )
