"""``/v1/cpd-records``: a person's CPD for an academic year, and its exports (CSV, xAPI 2.0)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal, PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.http import etag_of, resource_response
from cpd_common.idempotency import api_router
from cpd_evaluation.records import export, schemas, service
from cpd_evaluation.records.years import YEAR_PATTERN, AcademicYear

router = api_router("/v1/cpd-records", "cpd records")

YearQuery = Annotated[
    str | None,
    Query(
        pattern=YEAR_PATTERN, description="Academic year, e.g. 2025-26 (default: the current one)"
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such person whose record you may read (your own; people of the "
        "schools you lead; anyone of the trust for trust admins)."
    }
}
CSV = {
    200: {"content": {"text/csv": {}}, "description": "One row per activity, then totals."},
    **NOT_FOUND,
}
XAPI = {
    200: {"description": "xAPI 2.0 statements, one per activity."},
    **NOT_FOUND,
}
DESCRIPTION = (
    "Activities that start in the academic year (September to August) and their hours; the "
    "subject-specific and sustained shares; hours by kind; progress against the trust's "
    "entitlement pro-rated by FTE and the part of the year employed."
)


async def _record(
    session: AsyncSession, person_id: uuid.UUID | None, principal: Principal, year: str | None
) -> schemas.CpdRecord:
    academic_year = AcademicYear.parse(year)
    person = await service.person_for_record(session, person_id, principal=principal)
    return await service.cpd_record(session, person, year=academic_year)


def _csv(record: schemas.CpdRecord) -> Response:
    body = export.to_csv(record)
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cpd-record-{record.academic_year}.csv"',
            "ETag": etag_of({"csv": body}),
        },
    )


def _xapi(record: schemas.CpdRecord) -> list[dict[str, Any]]:
    return export.to_xapi(record)


@router.get(
    "/me",
    response_model=schemas.CpdRecord,
    summary="Your CPD record",
    description=DESCRIPTION,
    responses=NOT_FOUND,
)
async def my_record(
    session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Response:
    return resource_response(await _record(session, principal.person_id, principal, year))


@router.get(
    "/me/record.csv", summary="Your CPD record as CSV", response_class=Response, responses=CSV
)
async def my_record_csv(
    session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Response:
    return _csv(await _record(session, principal.person_id, principal, year))


@router.get(
    "/me/xapi",
    summary="Your CPD record as xAPI 2.0 statements",
    response_model=list[dict[str, Any]],
    responses=XAPI,
)
async def my_record_xapi(
    session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Any:
    return _xapi(await _record(session, principal.person_id, principal, year))


@router.get(
    "/{person_id}",
    response_model=schemas.CpdRecord,
    summary="A person's CPD record",
    description=DESCRIPTION,
    responses=NOT_FOUND,
)
async def person_record(
    person_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Response:
    return resource_response(await _record(session, person_id, principal, year))


@router.get(
    "/{person_id}/record.csv",
    summary="A person's CPD record as CSV",
    response_class=Response,
    responses=CSV,
)
async def person_record_csv(
    person_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Response:
    return _csv(await _record(session, person_id, principal, year))


@router.get(
    "/{person_id}/xapi",
    summary="A person's CPD record as xAPI 2.0 statements",
    response_model=list[dict[str, Any]],
    responses=XAPI,
)
async def person_record_xapi(
    person_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, year: YearQuery = None
) -> Any:
    return _xapi(await _record(session, person_id, principal, year))
