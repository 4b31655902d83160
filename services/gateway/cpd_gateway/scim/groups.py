"""SCIM Groups: a directory group as a SCIM Group (members limited to the people the client
may see), and creating, replacing, patching and deleting one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from scim2_models import Context, InvalidValueException, NotFoundException, PatchOp, SearchRequest
from scim2_models import Meta as ScimMeta
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_gateway.directory import groups as groups_service
from cpd_gateway.directory import schemas as directory_schemas
from cpd_gateway.models import Group, Person
from cpd_gateway.scim import filters
from cpd_gateway.scim.models import Group as ScimGroup
from cpd_gateway.scim.models import GroupMember
from cpd_gateway.scim.service import Scope, checked, parse_id, reference_id, search_page, version_of


def groups_query(principal: Principal) -> Select[Any]:
    return groups_service.groups_query(principal=principal)


async def get_group(
    session: AsyncSession, group_id: str, *, scope: Scope, for_update: bool = False
) -> Group:
    ident = parse_id(group_id)
    group = None
    if ident is not None:
        stmt = groups_query(scope.principal).where(Group.id == ident)
        group = await session.scalar(stmt.with_for_update() if for_update else stmt)
    if group is None:
        raise NotFoundException(detail=f"No Group {group_id} in this trust.")
    return group


async def _visible_members(
    session: AsyncSession, trust_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Members SCIM shows (not de-provisioned or erased), with their names."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Person.id, Person.name).where(
            Person.trust_id == trust_id,
            Person.id.in_(wanted),
            Person.erased_at.is_(None),
            Person.deprovisioned_at.is_(None),
        )
    )
    return {row.id: row.name for row in rows}


def _group(group: Group, scope: Scope, members: dict[uuid.UUID, str]) -> ScimGroup:
    out = ScimGroup(
        id=str(group.id),
        external_id=group.external_id,
        display_name=group.name,
        members=[
            GroupMember(
                value=str(pid),
                ref=scope.location("Users", pid),
                type="User",
                display=members[pid],
            )
            for pid in group.member_ids or []
            if pid in members
        ]
        or None,
    )
    out.meta = ScimMeta(
        resource_type="Group",
        created=group.created_at,
        last_modified=group.updated_at,
        location=scope.location("Groups", group.id),
    )
    out.meta.version = version_of(out.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    return out


async def groups(session: AsyncSession, rows: Sequence[Group], *, scope: Scope) -> list[ScimGroup]:
    members = await _visible_members(
        session, scope.principal.trust_id, (m for g in rows for m in g.member_ids or [])
    )
    return [_group(g, scope, members) for g in rows]


async def group(session: AsyncSession, row: Group, *, scope: Scope) -> ScimGroup:
    return (await groups(session, [row], scope=scope))[0]


async def list_groups(
    session: AsyncSession, request: SearchRequest[Any], *, scope: Scope
) -> tuple[int, list[Group]]:
    stmt = groups_query(scope.principal)
    if request.filter is not None:
        stmt = stmt.where(filters.group_filter(request.filter.ast))
    return await search_page(session, stmt, request, Group.id, groups=True)


def _member_ids(payload: ScimGroup) -> list[uuid.UUID]:
    ids = []
    for member in payload.members or []:
        if member.type and str(member.type).lower() != "user":
            raise InvalidValueException(detail="Groups hold people (type User), not groups.")
        ident = reference_id(member.value, member.ref, "member")
        if ident is None:
            raise InvalidValueException(detail="Each member needs a value (a User id).")
        ids.append(ident)
    return list(dict.fromkeys(ids))


async def create_group(session: AsyncSession, payload: ScimGroup, *, scope: Scope) -> Group:
    data = checked(
        directory_schemas.GroupCreate,
        {
            "name": payload.display_name,
            "member_ids": _member_ids(payload),
            "external_id": payload.external_id,
        },
    )
    return await groups_service.create_group(session, data, principal=scope.principal)


async def _apply_group(
    session: AsyncSession, row: Group, payload: ScimGroup, *, scope: Scope
) -> Group:
    wanted = _member_ids(payload)
    # Members SCIM does not show (de-provisioned) stay: the client could not name them.
    visible = await _visible_members(session, row.trust_id, row.member_ids or [])
    hidden = [m for m in row.member_ids or [] if m not in visible]
    member_ids = list(dict.fromkeys([*wanted, *hidden]))
    changes: dict[str, Any] = {}
    if payload.display_name and payload.display_name != row.name:
        changes["name"] = payload.display_name
    if payload.external_id != row.external_id:
        changes["external_id"] = payload.external_id
    if member_ids != list(row.member_ids or []):
        changes["member_ids"] = member_ids
    if not changes:
        return row
    data = checked(directory_schemas.GroupUpdate, changes)
    return await groups_service.update_group(session, row, data, principal=scope.principal)


async def replace_group(
    session: AsyncSession, row: Group, payload: ScimGroup, *, scope: Scope
) -> Group:
    return await _apply_group(session, row, payload, scope=scope)


async def patch_group(
    session: AsyncSession, row: Group, patch: PatchOp[Any], *, scope: Scope
) -> Group:
    current = await group(session, row, scope=scope)
    patch.patch(current)
    return await _apply_group(session, row, current, scope=scope)


async def delete_group(session: AsyncSession, row: Group, *, scope: Scope) -> None:
    await groups_service.delete_group(session, row, principal=scope.principal)
