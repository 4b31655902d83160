"""``/v1/enquiries``: classroom action enquiries, their question check, start and completion."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from cpd_common.auth import PrincipalDep, require_roles
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, paginate
from cpd_lessonstudy.enquiries import schemas, service
from cpd_lessonstudy.enquiries.schemas import EnquiryStatus
from cpd_lessonstudy.groups.access import ENQUIRY
from cpd_lessonstudy.groups.router import members_router, responses
from cpd_lessonstudy.models.enquiries import Enquiry
from cpd_lessonstudy.studies.access import STUDY_ROLES

PREFIX = "/v1/enquiries"
# Governors and API clients never see enquiries: 403 before any lookup.
GUARD = [Depends(require_roles(*STUDY_ROLES))]
R = responses("enquiry")

router = api_router(PREFIX, "enquiries", dependencies=GUARD)


@router.get(
    "",
    response_model=Page[schemas.EnquiryRead],
    summary="List enquiries you can see",
    description="Your own enquiries, those of the schools you lead, or (trust admins) every "
    "enquiry of the trust. Filter by school, status, member (a person id) and community.",
)
async def list_enquiries(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[EnquiryStatus | None, Query()] = None,
    member: Annotated[
        uuid.UUID | None, Query(description="Enquiries this person belongs to")
    ] = None,
    community_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Any:
    stmt = service.list_query(
        principal=principal,
        school_id=school_id,
        status=status,
        member=member,
        community_id=community_id,
    )
    rows, cursor = await paginate(session, stmt, Enquiry.id, page)
    return Page[schemas.EnquiryRead](
        items=await service.enquiry_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.EnquiryRead,
    summary="Create an enquiry",
    description="Creates an enquiry in `planning`: its question, the pupils it is about "
    "(described, never named), subject, dates, schools, members and coordinator, and the needs "
    "it answers. Give `replicates_enquiry_id` to replicate an earlier enquiry (it must have "
    "analysed its data). The response lists the question rules not met yet.",
    responses=problems(
        403,
        409,
        422,
        described={
            403: "Governors and API clients cannot create enquiries.",
            409: "The enquiry to replicate has not analysed its data yet.",
            422: "Unknown school, person or need, or an identifying detail about a pupil.",
        },
    ),
)
async def create_enquiry(
    data: schemas.EnquiryCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    enquiry = await service.create_enquiry(session, principal=principal, data=data)
    return resource_response(
        await service.enquiry_read(session, enquiry),
        status_code=201,
        location=f"{PREFIX}/{enquiry.id}",
    )


@router.post(
    "/question-check",
    response_model=schemas.QuestionCheck,
    summary="Check a draft question",
    description="The five rules with the signals the service can compute, for a question not "
    "saved yet (every rule's answer is `not_yet`). Nothing is stored.",
)
async def check_draft(data: schemas.QuestionDraft) -> schemas.QuestionCheck:
    return service.draft_check(data)


@router.get(
    "/{enquiry_id}",
    response_model=schemas.EnquiryRead,
    summary="Get an enquiry",
    description="With its members, the stages reached and `next_step`.",
    responses=R["not_found"],
)
async def get_enquiry(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    enquiry = await service.get_enquiry(session, enquiry_id, principal=principal)
    return resource_response(await service.enquiry_read(session, enquiry))


@router.patch(
    "/{enquiry_id}",
    response_model=schemas.EnquiryRead,
    summary="Change an enquiry",
    description="Members only, with If-Match. Schools change only while planning; a completed "
    "enquiry is a record.",
    responses=R["patch"],
)
async def update_enquiry(
    enquiry_id: uuid.UUID,
    data: schemas.EnquiryUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_enquiry(session, enquiry_id, principal=principal)
    require_if_match(request, await service.enquiry_read(session, current))
    enquiry = await service.update_enquiry(session, enquiry_id, principal=principal, data=data)
    return resource_response(await service.enquiry_read(session, enquiry))


@router.delete(
    "/{enquiry_id}",
    status_code=204,
    summary="Delete an enquiry being planned",
    description="Members only, with If-Match; 409 once it has started (it is then a record).",
    responses=R["patch"],
)
async def delete_enquiry(
    enquiry_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    current = await service.get_enquiry(session, enquiry_id, principal=principal)
    require_if_match(request, await service.enquiry_read(session, current))
    await service.delete_enquiry(session, enquiry_id, principal=principal)
    return Response(status_code=204)


@router.get(
    "/{enquiry_id}/question",
    response_model=schemas.QuestionCheck,
    summary="The question, checked",
    description="The five rules for a clear, focused enquiry question: for each, the prompt "
    "the members answer (yes / not yet, with a note), the signals computed from the text and "
    "whether it is met; `unmet` lists the rules not met yet. Guidance, never an error.",
    responses=R["not_found"],
)
async def get_question(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    enquiry = await service.get_enquiry(session, enquiry_id, principal=principal)
    return resource_response(await service.question_check(session, enquiry))


@router.patch(
    "/{enquiry_id}/question",
    response_model=schemas.QuestionCheck,
    summary="Rephrase the question or answer its rules",
    description="Members only, with If-Match (the ETag of GET .../question). Answers are "
    "merged by rule number.",
    responses=R["patch"],
)
async def update_question(
    enquiry_id: uuid.UUID,
    data: schemas.QuestionUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    enquiry = await service.get_enquiry(session, enquiry_id, principal=principal)
    require_if_match(request, await service.question_check(session, enquiry))
    return resource_response(
        await service.update_question(session, enquiry_id, principal=principal, data=data)
    )


@router.post(
    "/{enquiry_id}/start",
    response_model=schemas.EnquiryRead,
    summary="Start collecting data (planning -> active)",
    description="Needs a coordinator. Unmet question rules do not block (they are guidance). "
    "Publishes `lessonstudy.enquiry.started`. 409 from any other status.",
    responses=R["write"],
)
async def start_enquiry(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    enquiry = await service.start_enquiry(session, enquiry_id, principal=principal)
    return resource_response(await service.enquiry_read(session, enquiry))


@router.post(
    "/{enquiry_id}/complete",
    response_model=schemas.EnquiryRead,
    summary="Complete the enquiry (active -> completed)",
    description="Needs at least one finding (analysis). Publishes "
    "`lessonstudy.enquiry.completed` with the stages reached and each member's hours. "
    "Reporting and replication can still be recorded afterwards.",
    responses=R["write"],
)
async def complete_enquiry(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    enquiry = await service.complete_enquiry(session, enquiry_id, principal=principal)
    return resource_response(await service.enquiry_read(session, enquiry))


members = members_router(
    ENQUIRY,
    prefix=PREFIX,
    tag="enquiries: members",
    guard=GUARD,
    ensure_open=service.ensure_open,
)
