"""``/v1/enquiries/{id}/report`` (HTML) and ``/{id}/process-health``."""

from __future__ import annotations

import hashlib
import uuid

from fastapi import Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import resource_response
from cpd_common.idempotency import api_router
from cpd_lessonstudy.enquiries.router import GUARD, PREFIX, R
from cpd_lessonstudy.enquiry_reports import render, service
from cpd_lessonstudy.enquiry_reports.schemas import EnquiryHealth

router = api_router(PREFIX, "enquiries: report", dependencies=GUARD)
ABOUT = (
    "The write-up a group shares, readable by a colleague who was not there: the question and "
    "how it meets the five rules, the pupils (described, never named), the data, the findings "
    "and the data they rest on, validity checks, replication, pupil voice, reporting and how the "
    "process was followed. An enquiry that is not completed gets a draft."
)
HTML_RESPONSES = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report"},
    **R["not_found"],
}


async def _report(session: SessionDep, enquiry_id: uuid.UUID, principal: PrincipalDep) -> Response:
    record = await service.enquiry_record(session, enquiry_id, principal=principal)
    raw = render.render_html(record).encode()
    return Response(
        raw,
        media_type="text/html; charset=utf-8",
        headers={
            "ETag": '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"',
            "Content-Disposition": f'inline; filename="enquiry-{enquiry_id}.html"',
        },
    )


@router.get(
    "/{enquiry_id}/report",
    summary="The enquiry report (HTML)",
    description=ABOUT,
    response_class=Response,
    responses=HTML_RESPONSES,
)
async def get_report(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return await _report(session, enquiry_id, principal)


@router.get(
    "/{enquiry_id}/report.html",
    summary="The enquiry report as an HTML file",
    description=ABOUT,
    response_class=Response,
    responses=HTML_RESPONSES,
)
async def get_report_html(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return await _report(session, enquiry_id, principal)


@router.get(
    "/{enquiry_id}/process-health",
    response_model=EnquiryHealth,
    summary="The enquiry's process health",
    description="Stages reached, data sources used, whether validity was checked, whether it "
    "was replicated and disseminated, pupil voice. About the process, never about a teacher.",
    responses=R["not_found"],
)
async def get_health(
    enquiry_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(await service.enquiry_health(session, enquiry_id, principal=principal))
