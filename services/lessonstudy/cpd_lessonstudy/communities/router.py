"""``/v1/learning-communities``: the communities, their members, meetings, the enquiries,
lesson studies and peer-coaching pairs they run, the work they share, and the trust and
school views."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy import select

from cpd_common.auth import PrincipalDep, require_roles
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.communities import schemas, service
from cpd_lessonstudy.community_views import service as views
from cpd_lessonstudy.community_work import service as work
from cpd_lessonstudy.groups.access import COMMUNITY, get_access
from cpd_lessonstudy.groups.router import members_router, responses
from cpd_lessonstudy.models.communities import (
    CommunityActivity,
    CommunityMeeting,
    CommunityShare,
    LearningCommunity,
)
from cpd_lessonstudy.studies.access import STUDY_ROLES

PREFIX = "/v1/learning-communities"
GUARD = [Depends(require_roles(*STUDY_ROLES))]
R = responses("learning community")

router = api_router(PREFIX, "learning communities", dependencies=GUARD)


@router.get(
    "/overview",
    response_model=schemas.CommunityOverview,
    summary="Trust and school views",
    description="Communities running, their members, meeting cadence (meetings, last met, "
    "mean days between meetings) and enquiries by the furthest component reached: per "
    "community, per school and in total. Trust admins see every school; school leaders theirs.",
    responses=problems(403, described={403: "Staff without a leadership role."}),
)
async def overview(
    session: SessionDep,
    principal: PrincipalDep,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    return resource_response(
        await views.overview(session, principal=principal, school_id=school_id)
    )


@router.get(
    "",
    response_model=Page[schemas.CommunityRead],
    summary="List learning communities you can see",
    description="Your own, those of the schools you lead, or (trust admins) every community of "
    "the trust. Filter by school, status (forming, running, ended) and member.",
)
async def list_communities(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[schemas.CommunityStatus | None, Query()] = None,
    member: Annotated[uuid.UUID | None, Query()] = None,
) -> Any:
    stmt = service.list_query(
        principal=principal, school_id=school_id, status=status, member=member
    )
    rows, cursor = await paginate(session, stmt, LearningCommunity.id, page)
    return Page[schemas.CommunityRead](
        items=await service.community_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.CommunityRead,
    summary="Form a learning community",
    description="Members (possibly mixed across departments or schools on purpose), a "
    "coordinator, the learning priority and needs it serves, and a fixed period of half a term "
    "to a year.",
    responses=problems(
        403,
        422,
        described={
            403: "Governors and API clients cannot form communities.",
            422: "Unknown school, person or need, or a period outside half a term to a year.",
        },
    ),
)
async def create_community(
    data: schemas.CommunityCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    community = await service.create_community(session, principal=principal, data=data)
    return resource_response(
        await service.community_read(session, community),
        status_code=201,
        location=f"{PREFIX}/{community.id}",
    )


@router.get(
    "/{community_id}",
    response_model=schemas.CommunityRead,
    summary="Get a learning community",
    responses=R["not_found"],
)
async def get_community(
    community_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    community = await service.get_community(session, community_id, principal=principal)
    return resource_response(await service.community_read(session, community))


@router.patch(
    "/{community_id}",
    response_model=schemas.CommunityRead,
    summary="Change a learning community",
    description="Members only, with If-Match. The period stays half a term to a year and must "
    "keep the meetings already held.",
    responses=R["patch"],
)
async def update_community(
    community_id: uuid.UUID,
    data: schemas.CommunityUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_community(session, community_id, principal=principal)
    require_if_match(request, await service.community_read(session, current))
    community = await service.update_community(
        session, community_id, principal=principal, data=data
    )
    return resource_response(await service.community_read(session, community))


@router.delete(
    "/{community_id}",
    status_code=204,
    summary="Delete a community that has not met",
    description="Members only, with If-Match; 409 once it has met or runs any work.",
    responses=R["patch"],
)
async def delete_community(
    community_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    current = await service.get_community(session, community_id, principal=principal)
    require_if_match(request, await service.community_read(session, current))
    await service.delete_community(session, community_id, principal=principal)
    return Response(status_code=204)


# ---- meetings, activities, shared work --------------------------------------------------------


async def _page(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    community_id: uuid.UUID,
    model: type[Any],
) -> dict[str, Any]:
    await get_access(session, COMMUNITY, community_id, principal=principal)
    rows, cursor = await paginate(session, work_query(model, community_id), model.id, page)
    items = await work.reads(session, model, community_id, rows)
    return {"items": items, "next_cursor": cursor}


def work_query(model: type[Any], community_id: uuid.UUID) -> Any:
    return select(model).where(model.community_id == community_id)


@router.get(
    "/{community_id}/meetings",
    response_model=Page[schemas.MeetingRead],
    summary="List the meetings",
    responses=R["not_found"],
)
async def list_meetings(
    community_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    return await _page(session, principal, page, community_id, CommunityMeeting)


@router.post(
    "/{community_id}/meetings",
    status_code=201,
    response_model=schemas.MeetingRead,
    summary="Record a meeting",
    description="Date (within the period, not in the future), length, cycle, minutes, "
    "attendance and what was shared. Publishes `lessonstudy.community.meeting_held` with the "
    "hours of each member who attended.",
    responses=R["write"],
)
async def hold_meeting(
    community_id: uuid.UUID,
    data: schemas.MeetingCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    meeting = await work.hold_meeting(session, community_id, principal=principal, data=data)
    return resource_response(
        meeting, status_code=201, location=f"{PREFIX}/{community_id}/meetings/{meeting.id}"
    )


@router.get(
    "/{community_id}/meetings/{meeting_id}",
    response_model=schemas.MeetingRead,
    summary="Get a meeting",
    responses=R["not_found"],
)
async def get_meeting(
    community_id: uuid.UUID, meeting_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await work.get_one(session, CommunityMeeting, community_id, meeting_id, principal=principal)
    )


@router.patch(
    "/{community_id}/meetings/{meeting_id}",
    response_model=schemas.MeetingRead,
    summary="Complete a meeting's minutes",
    description="With If-Match. Only the minutes and what was shared change; date, length and "
    "attendance went out with the event.",
    responses=R["patch"],
)
async def update_meeting(
    community_id: uuid.UUID,
    meeting_id: uuid.UUID,
    data: schemas.MeetingUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await work.get_one(
        session, CommunityMeeting, community_id, meeting_id, principal=principal
    )
    require_if_match(request, current)
    return resource_response(
        await work.update_meeting(session, community_id, meeting_id, principal=principal, data=data)
    )


@router.get(
    "/{community_id}/activities",
    response_model=Page[schemas.ActivityRead],
    summary="List what the community runs",
    description="Its enquiries (with their stage), lesson studies (with their status) and "
    "peer-coaching pairs, by cycle.",
    responses=R["not_found"],
)
async def list_activities(
    community_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    return await _page(session, principal, page, community_id, CommunityActivity)


@router.post(
    "/{community_id}/activities",
    status_code=201,
    response_model=schemas.ActivityRead,
    summary="Run an enquiry, a lesson study or a peer-coaching pair",
    description="Links an enquiry or lesson study you can see, or pairs two members for peer "
    "coaching, in one of the community's cycles. 409 when the enquiry or study already "
    "belongs to a community.",
    responses=R["write"],
)
async def add_activity(
    community_id: uuid.UUID,
    data: schemas.ActivityCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    activity = await work.add_activity(session, community_id, principal=principal, data=data)
    return resource_response(
        activity,
        status_code=201,
        location=f"{PREFIX}/{community_id}/activities/{activity.id}",
    )


@router.get(
    "/{community_id}/activities/{activity_id}",
    response_model=schemas.ActivityRead,
    summary="Get an activity",
    responses=R["not_found"],
)
async def get_activity(
    community_id: uuid.UUID, activity_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await work.get_one(
            session, CommunityActivity, community_id, activity_id, principal=principal
        )
    )


@router.delete(
    "/{community_id}/activities/{activity_id}",
    status_code=204,
    summary="Stop running an activity",
    description="With If-Match. The enquiry or lesson study itself stays; only the link goes.",
    responses=R["patch"],
)
async def remove_activity(
    community_id: uuid.UUID,
    activity_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await work.get_one(
        session, CommunityActivity, community_id, activity_id, principal=principal
    )
    require_if_match(request, current)
    await work.remove_activity(session, community_id, activity_id, principal=principal)
    return Response(status_code=204)


@router.get(
    "/{community_id}/shares",
    response_model=Page[schemas.ShareRead],
    summary="List the work in progress shared with colleagues",
    responses=R["not_found"],
)
async def list_shares(
    community_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    return await _page(session, principal, page, community_id, CommunityShare)


@router.post(
    "/{community_id}/shares",
    status_code=201,
    response_model=schemas.ShareRead,
    summary="Record work shared with colleagues",
    description="A sharing session, a tool or artefact made for others, an open-house lesson.",
    responses=R["write"],
)
async def add_share(
    community_id: uuid.UUID,
    data: schemas.ShareCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    share = await work.add_share(session, community_id, principal=principal, data=data)
    return resource_response(
        share, status_code=201, location=f"{PREFIX}/{community_id}/shares/{share.id}"
    )


@router.get(
    "/{community_id}/shares/{share_id}",
    response_model=schemas.ShareRead,
    summary="Get shared work",
    responses=R["not_found"],
)
async def get_share(
    community_id: uuid.UUID, share_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await work.get_one(session, CommunityShare, community_id, share_id, principal=principal)
    )


members = members_router(
    COMMUNITY,
    prefix=PREFIX,
    tag="learning communities: members",
    guard=GUARD,
)
