"""``/v1/lesson-studies/{id}/members``: who is in the group, in which role."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.members import schemas, service
from cpd_lessonstudy.models import StudyMember
from cpd_lessonstudy.studies.access import get_access
from cpd_lessonstudy.studies.routing import (
    IF_MATCH_DELETE,
    NOT_FOUND,
    PATCH_RESPONSES,
    PREFIX,
    WRITE_RESPONSES,
    study_router,
)

router = study_router("lesson studies: members")


@router.get(
    "/{study_id}/members",
    response_model=Page[schemas.MemberRead],
    summary="List the study's members",
    description="Members in joining order, with their roles. An erased person appears as "
    '"Former member" with no person id.',
    responses=NOT_FOUND,
)
async def list_members(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    await get_access(session, study_id, principal=principal)
    rows, cursor = await paginate(session, service.members_query(study_id), StudyMember.id, page)
    return Page[schemas.MemberRead](
        items=await service.reads_for(session, rows), next_cursor=cursor
    )


@router.post(
    "/{study_id}/members",
    status_code=201,
    response_model=schemas.MemberRead,
    summary="Add a member",
    description="Adds a person of the trust in a role. Teachers, observers and facilitators "
    "must belong to one of the study's schools; a knowledgeable other may come from any school "
    "of the trust (networked lesson study). Members only; not once the study is completed.",
    responses={
        **WRITE_RESPONSES,
        422: {"description": "Unknown person, or not at the study's schools for that role."},
    },
)
async def add_member(
    study_id: uuid.UUID, data: schemas.MemberCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    member = await service.add_member(session, study_id, principal=principal, data=data)
    return resource_response(
        member, status_code=201, location=f"{PREFIX}/{study_id}/members/{member.id}"
    )


@router.get(
    "/{study_id}/members/{member_id}",
    response_model=schemas.MemberRead,
    summary="Get a member",
    responses=NOT_FOUND,
)
async def get_member(
    study_id: uuid.UUID, member_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await service.get_member(session, study_id, member_id, principal=principal)
    )


@router.patch(
    "/{study_id}/members/{member_id}",
    response_model=schemas.MemberRead,
    summary="Change a member's role",
    description="Send If-Match with the member's ETag.",
    responses={
        **PATCH_RESPONSES,
        409: {"description": "The study is completed, or the member was erased."},
    },
)
async def update_member(
    study_id: uuid.UUID,
    member_id: uuid.UUID,
    data: schemas.MemberUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_member(session, study_id, member_id, principal=principal)
    require_if_match(request, current)
    return resource_response(
        await service.update_member(session, study_id, member_id, principal=principal, data=data)
    )


@router.delete(
    "/{study_id}/members/{member_id}",
    status_code=204,
    summary="Remove a member (planning only)",
    description="Possible only while the study is being planned and before the member has "
    "recorded anything; afterwards who took part is part of the record. " + IF_MATCH_DELETE,
    responses={**WRITE_RESPONSES, **PATCH_RESPONSES},
)
async def remove_member(
    study_id: uuid.UUID,
    member_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    require_if_match(
        request, await service.get_member(session, study_id, member_id, principal=principal)
    )
    await service.remove_member(session, study_id, member_id, principal=principal)
    return Response(status_code=204)
