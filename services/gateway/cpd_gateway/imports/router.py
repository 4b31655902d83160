"""``POST /v1/imports/people``: a CSV export of an HR or MIS system, for trust admins and
HR integration clients (``?dry_run=true`` reports without changing anything)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import ProblemError, problems
from cpd_common.idempotency import ApiRoute
from cpd_gateway.imports import schemas, service

router = APIRouter(prefix="/v1/imports", route_class=ApiRoute, tags=["imports"])

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


class UnsupportedMediaType(ProblemError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


@router.post(
    "/people",
    response_model=schemas.ImportReport,
    summary="Import people from a CSV export (trust admin, HR integration)",
    description="Columns (header names matched ignoring case, spaces and hyphens): external_id, "
    "email, user_name, name, given_name, family_name, employee_number, schools (ids, URNs or "
    "names, separated by `;`), staff_group, career_stage, department, fte, start_date "
    "(YYYY-MM-DD or DD/MM/YYYY), line_manager (external id or email), active. Rows match "
    "people by external_id, then email. With `dry_run=true` nothing changes and the report says "
    "who would be created, updated or deactivated and every invalid cell. A real run is all "
    "or nothing (422 listing the invalid cells), publishes `directory.person.upserted` once per "
    "person that changes, and the same file again changes nothing. With "
    "`deactivate_missing=true` the people of the file's scope who carry an external id and "
    "whom the file does not name are deactivated too (listed as `deactivated_missing`; the "
    "scope is the schools the file names, or the whole trust for a trust admin's file that "
    "names no school; never the caller or a trust admin).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    responses=problems(400, 403, 415, 422),
)
async def import_people(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    dry_run: Annotated[bool, Query(description="Report only; change nothing")] = False,
    deactivate_missing: Annotated[
        bool,
        Query(
            description="Also deactivate the HR-managed people (with an external id) of the "
            "file's scope whom the file does not name"
        ),
    ] = False,
) -> Any:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in CSV_TYPES:
        raise UnsupportedMediaType("Send the file as text/csv.")
    body = await request.body()
    return await service.run(
        session,
        body,
        principal=principal,
        dry_run=dry_run,
        deactivate_missing=deactivate_missing,
    )
