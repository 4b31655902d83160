"""``/v1/enquiries/{id}/...``: the records of each component (data, findings, validity checks,
replications, disseminations), pupil voice, case pupils, time and hours."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from fastapi import Request, Response
from pydantic import BaseModel

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep
from cpd_lessonstudy.enquiries.router import GUARD, PREFIX, R
from cpd_lessonstudy.enquiry_stages import schemas as s
from cpd_lessonstudy.enquiry_stages import service
from cpd_lessonstudy.enquiry_stages import time_records as enquiry_time
from cpd_lessonstudy.models.enquiries import (
    EnquiryCasePupil,
    EnquiryDataEntry,
    EnquiryDissemination,
    EnquiryFinding,
    EnquiryPupilVoice,
    EnquiryReplication,
    EnquiryTimeRecord,
    EnquiryValidityCheck,
)

router = api_router(PREFIX, "enquiries: stages", dependencies=GUARD)

Create = Callable[..., Awaitable[BaseModel]]


def _collection(
    path: str,
    model: type[Any],
    read: type[BaseModel],
    create_body: type[BaseModel] | None,
    create: Create | None,
    *,
    noun: str,
    about: str,
    conflict: str = "",
) -> None:
    """GET list, GET one and (when ``create``) POST for one kind of record."""

    async def list_(
        enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
    ) -> Any:
        items, cursor = await service.list_records(
            session, model, enquiry_id, principal=principal, page=page
        )
        return {"items": [i.model_dump(mode="json") for i in items], "next_cursor": cursor}

    router.add_api_route(
        f"/{{enquiry_id}}/{path}",
        list_,
        methods=["GET"],
        response_model=cast(Any, Page)[read],
        summary=f"List the {noun}s",
        description=about,
        responses=R["not_found"],
        operation_id=f"list_enquiry_{path.replace('-', '_')}",
    )

    async def get_one(
        enquiry_id: uuid.UUID, record_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
    ) -> Response:
        return resource_response(
            await service.get_record(session, model, enquiry_id, record_id, principal=principal)
        )

    router.add_api_route(
        f"/{{enquiry_id}}/{path}/{{record_id}}",
        get_one,
        methods=["GET"],
        response_model=read,
        summary=f"Get a {noun}",
        responses=R["not_found"],
        operation_id=f"get_enquiry_{path.replace('-', '_')}",
    )
    if create is None or create_body is None:
        return
    create_fn = create

    async def post(
        enquiry_id: uuid.UUID, data: Any, session: SessionDep, principal: PrincipalDep
    ) -> Response:
        made = await create_fn(session, enquiry_id, principal=principal, data=data)
        return resource_response(
            made,
            status_code=201,
            location=f"{PREFIX}/{enquiry_id}/{path}/{made.id}",  # type: ignore[attr-defined]
        )

    post.__annotations__["data"] = create_body
    router.add_api_route(
        f"/{{enquiry_id}}/{path}",
        post,
        methods=["POST"],
        status_code=201,
        response_model=read,
        summary=f"Record a {noun}",
        description=about + (" " + conflict if conflict else ""),
        responses=R["write"],
        operation_id=f"add_enquiry_{path.replace('-', '_')}",
    )


_collection(
    "data",
    EnquiryDataEntry,
    s.DataEntryRead,
    s.DataEntryCreate,
    service.add_data,
    noun="data entry",
    about="(b) Collected data, dated: primary (book samples, observations, learning walks, "
    "assessments), secondary (questionnaires, interviews) or techniques (concept mapping, "
    "climate mapping, hot spotting), with attachments by reference.",
    conflict="409 before the enquiry has started.",
)
_collection(
    "findings",
    EnquiryFinding,
    s.FindingRead,
    s.FindingCreate,
    service.add_finding,
    noun="finding",
    about="(c) What the analysis found, the data entries it rests on and the other "
    "interpretations considered.",
    conflict="409 before any data is recorded.",
)
_collection(
    "validity-checks",
    EnquiryValidityCheck,
    s.ValidityCheckRead,
    s.ValidityCheckCreate,
    service.add_validity_check,
    noun="validity check",
    about="(d) Who else interpreted the data, whether they agreed, and whether the counts "
    "tally with the qualitative conclusions.",
    conflict="409 before analysis (no finding yet).",
)
_collection(
    "replications",
    EnquiryReplication,
    s.ReplicationRead,
    None,
    None,
    noun="replication",
    about="(e) Follow-up enquiries replicating this one (create them with POST /v1/enquiries "
    "and `replicates_enquiry_id`), and whether the conclusions held.",
)
_collection(
    "disseminations",
    EnquiryDissemination,
    s.DisseminationRead,
    s.DisseminationCreate,
    service.add_dissemination,
    noun="dissemination",
    about="(f) Reporting: to whom, in what form, whether beyond the school, and what changed "
    "as a result. Also after the enquiry is completed.",
    conflict="409 before analysis (no finding yet).",
)
_collection(
    "pupil-voice",
    EnquiryPupilVoice,
    s.PupilVoiceRead,
    s.PupilVoiceCreate,
    service.add_pupil_voice,
    noun="pupil voice entry",
    about="Pupils' views on, critique of or co-design of the techniques: anonymous and "
    f"group-level (a described group of at least {s.MIN_VOICE_GROUP} pupils, never a name).",
)
_collection(
    "case-pupils",
    EnquiryCasePupil,
    s.CasePupilRead,
    s.CasePupilCreate,
    service.add_case_pupil,
    noun="case pupil",
    about="Pupils the enquiry follows closely, as in lesson study: a 1-3 character label "
    "(never a name) and an anonymous profile.",
)
_collection(
    "time-records",
    EnquiryTimeRecord,
    s.TimeRecordRead,
    s.TimeRecordCreate,
    enquiry_time.add_time_record,
    noun="time record",
    about="Time members spent on the enquiry (minutes each): their hours travel with "
    "`lessonstudy.enquiry.completed`.",
)


@router.patch(
    "/{enquiry_id}/replications/{record_id}",
    response_model=s.ReplicationRead,
    summary="Record whether the conclusions held",
    description="With If-Match. Anything but `pending` needs the follow-up enquiry to have "
    "analysed its data (409).",
    responses=R["patch"],
)
async def update_replication(
    enquiry_id: uuid.UUID,
    record_id: uuid.UUID,
    data: s.ReplicationUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    current = await service.get_record(
        session, EnquiryReplication, enquiry_id, record_id, principal=principal
    )
    require_if_match(request, current)
    return resource_response(
        await service.update_replication(
            session, enquiry_id, record_id, principal=principal, data=data
        )
    )


@router.get(
    "/{enquiry_id}/hours",
    response_model=s.EnquiryHours,
    summary="Hours per member",
    responses=R["not_found"],
)
async def get_hours(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(await enquiry_time.hours(session, enquiry_id, principal=principal))
