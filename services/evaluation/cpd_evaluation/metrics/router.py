"""``/v1/metrics``: anonymised CPD metrics for external quality-assurance bodies (JSON or CSV),
their definitions, and the trust admin's log of every release."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import Unprocessable
from cpd_common.http import etag_of, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import PageDep
from cpd_evaluation.metrics import export, schemas, service
from cpd_evaluation.records.years import YEAR_PATTERN, AcademicYear

router = api_router("/v1/metrics", "qa metrics")

QA_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "Only API clients with the qa_reader role read QA metrics."}
}
CSV_MEDIA = "text/csv"
DESCRIPTION = (
    "The trust's figures and each school's for an academic year (September to August): staff "
    "covered, hours per FTE, shares meeting the entitlement, sustained and subject-specific, "
    "activities evaluated beyond reactions and with pupil-outcome evidence, lesson studies "
    "completed, the values v practice gap per principle and the median effect size. Counts are "
    "rounded to the nearest 5; a figure built from fewer than 10 people is withheld ([c]), and "
    "so is a second school whenever one alone would be (complementary suppression); [x] means "
    "not available. Never a person or a pupil. Each pull is logged for the trust admin "
    "(/v1/metrics/releases). JSON by default; CSV with `Accept: text/csv` or `?format=csv`."
)


def _year(value: str | None) -> AcademicYear:
    try:
        return AcademicYear.parse(value)
    except Unprocessable as exc:
        raise Unprocessable(
            "academic_year is an academic year such as 2025-26.",
            errors=[{"loc": "query.academic_year", "msg": "expected YYYY-YY, e.g. 2025-26"}],
        ) from exc


def _wants_csv(form: str | None, accept: str | None) -> bool:
    """``?format=`` wins; otherwise the Accept header's preference between JSON and CSV
    (JSON when it names neither or ties)."""
    if form is not None:
        return form == "csv"
    quality = {"application/json": 0.0, CSV_MEDIA: 0.0}
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.lower() in quality:
            quality[media.lower()] = max(quality[media.lower()], q)
    return quality[CSV_MEDIA] > quality["application/json"]


@router.get(
    "",
    response_model=schemas.MetricsRelease,
    summary="Anonymised CPD metrics of the trust and its schools",
    description=DESCRIPTION,
    responses={
        200: {
            "content": {CSV_MEDIA: {}},
            "description": "The release: JSON, or CSV with one row per cell (a withheld cell "
            "carries its symbol as the value).",
        },
        **QA_ONLY,
        404: {"description": "No such school in the client's trust."},
    },
)
async def get_metrics(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    academic_year: Annotated[
        str | None,
        Query(pattern=YEAR_PATTERN, description="e.g. 2025-26; the current one when left out."),
    ] = None,
    school_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Only this school's figures (and the trust's); all schools when left out."
        ),
    ] = None,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="csv: the CSV form.")
    ] = None,
) -> Response:
    csv_form = _wants_csv(format, request.headers.get("accept"))
    release = await service.pull(
        session,
        principal=principal,
        year=_year(academic_year),
        school_id=school_id,
        form="csv" if csv_form else "json",
    )
    if not csv_form:
        return resource_response(release)
    body = export.to_csv(release)
    return Response(
        content=body,
        media_type=f"{CSV_MEDIA}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="cpd-metrics-{release.academic_year}.csv"',
            "ETag": etag_of({"csv": body}),
            "CPD-Release-Id": str(release.release_id),
        },
    )


@router.get(
    "/definitions",
    response_model=schemas.Definitions,
    summary="What each QA metric means",
    description="Each metric's id, version, name, unit, description, base (who it is built "
    "from) and disclosure rule; the threshold, the rounding and the symbols for withheld cells.",
    responses=QA_ONLY,
)
async def get_definitions(principal: PrincipalDep) -> Any:
    return service.get_definitions(principal)


@router.get(
    "/releases",
    response_model=schemas.ReleasePage,
    summary="The log of QA metrics released for the trust",
    description="Trust admins: every pull of /v1/metrics, oldest first: the client, when, the "
    "academic year, the form, the definition versions, how many cells were released and which "
    "were withheld (and by which rule).",
    responses={403: {"description": "Only trust admins read the release log."}},
)
async def list_releases(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Any:
    return await service.list_releases(session, principal=principal, page=page)
