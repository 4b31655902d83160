"""The ``/{id}/members`` endpoints of enquiries and learning communities (one shape for both)."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.groups import members
from cpd_lessonstudy.groups.access import GroupKind, get_access
from cpd_lessonstudy.groups.schemas import GroupMemberCreate, GroupMemberRead, GroupMemberUpdate


def responses(noun: str) -> dict[str, dict[int | str, dict[str, Any]]]:
    """The documented problem answers of a group's routes, in the group's words."""
    described = {
        403: f"You may read this {noun} but only its members can change it.",
        404: f"No such {noun} (or item) that you may see: also the answer for another trust's.",
        409: f"Not possible in the {noun}'s current state (the detail says what to do first).",
    }
    return {
        "not_found": problems(404, described=described),
        "write": problems(403, 404, 409, 422, described=described),
        "patch": problems(403, 404, 409, 412, 422, 428, described=described),
    }


def members_router(
    kind: GroupKind[Any],
    *,
    prefix: str,
    tag: str,
    guard: list[Any],
    ensure_open: Callable[[Any], None] | None = None,
) -> APIRouter:
    """GET/POST ``/{id}/members`` and GET/PATCH/DELETE ``/{id}/members/{member_id}`` for one kind
    of group. ``ensure_open`` refuses changes to a group whose record is closed (a completed
    enquiry); a learning community stays open to its membership."""
    r = responses(kind.noun)
    GroupId = Annotated[uuid.UUID, Path(alias=kind.fk)]
    router = api_router(prefix, tag, dependencies=guard)

    @router.get(
        f"/{{{kind.fk}}}/members",
        response_model=Page[GroupMemberRead],
        summary="List the members",
        description='In joining order. An erased person appears as "Former member" with no '
        "person id.",
        responses=r["not_found"],
        operation_id=f"list_{kind.fk}_members",
    )
    async def list_members(
        session: SessionDep, principal: PrincipalDep, page: PageDep, group_id: GroupId
    ) -> Any:
        await get_access(session, kind, group_id, principal=principal)
        rows, cursor = await paginate(
            session, members.members_query(kind, group_id), kind.member.id, page
        )
        return Page[GroupMemberRead](
            items=await members.reads_for(session, rows), next_cursor=cursor
        )

    @router.post(
        f"/{{{kind.fk}}}/members",
        status_code=201,
        response_model=GroupMemberRead,
        summary="Add a member",
        description="An active person at one of the schools involved (add a school to bring in "
        "colleagues from another school of the trust). At most one coordinator. Members only.",
        responses=r["write"],
        operation_id=f"add_{kind.fk}_member",
    )
    async def add_member(
        data: GroupMemberCreate,
        session: SessionDep,
        principal: PrincipalDep,
        group_id: GroupId,
    ) -> Response:
        member = await members.add_member(
            session, kind, group_id, principal=principal, data=data, ensure_open=ensure_open
        )
        return resource_response(
            member, status_code=201, location=f"{prefix}/{group_id}/members/{member.id}"
        )

    @router.get(
        f"/{{{kind.fk}}}/members/{{member_id}}",
        response_model=GroupMemberRead,
        summary="Get a member",
        responses=r["not_found"],
        operation_id=f"get_{kind.fk}_member",
    )
    async def get_member(
        member_id: uuid.UUID,
        session: SessionDep,
        principal: PrincipalDep,
        group_id: GroupId,
    ) -> Response:
        return resource_response(
            await members.get_member(session, kind, group_id, member_id, principal=principal)
        )

    @router.patch(
        f"/{{{kind.fk}}}/members/{{member_id}}",
        response_model=GroupMemberRead,
        summary="Change a member's role",
        description="Send If-Match with the member's ETag. 409 if the group already has a "
        "coordinator.",
        responses=r["patch"],
        operation_id=f"update_{kind.fk}_member",
    )
    async def update_member(
        member_id: uuid.UUID,
        data: GroupMemberUpdate,
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        group_id: GroupId,
    ) -> Response:
        current = await members.get_member(session, kind, group_id, member_id, principal=principal)
        require_if_match(request, current)
        return resource_response(
            await members.update_member(
                session,
                kind,
                group_id,
                member_id,
                principal=principal,
                data=data,
                ensure_open=ensure_open,
            )
        )

    @router.delete(
        f"/{{{kind.fk}}}/members/{{member_id}}",
        status_code=204,
        summary="Remove a member who has recorded nothing",
        description="Send If-Match with the member's ETag. Once a member has recorded data, "
        "time or attendance they are part of the record (409).",
        responses=r["patch"],
        operation_id=f"remove_{kind.fk}_member",
    )
    async def remove_member(
        member_id: uuid.UUID,
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        group_id: GroupId,
    ) -> Response:
        current = await members.get_member(session, kind, group_id, member_id, principal=principal)
        require_if_match(request, current)
        await members.remove_member(
            session, kind, group_id, member_id, principal=principal, ensure_open=ensure_open
        )
        return Response(status_code=204)

    return router
