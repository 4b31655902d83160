"""HTTP endpoints of audit results (``/v1/audits/{id}/results``, the chart, the CSV,
comparisons and suggested needs)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from cpd_audit.results import (
    breakdowns,
    chart,
    comparison,
    csv_export,
    schemas,
    service,
    suggestions,
)
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import etag_of, resource_response
from cpd_common.idempotency import api_router

router = api_router("/v1/audits", "results")

WHO = (
    "Results are released when the audit closes; until then nobody sees any figure, "
    "breakdown, distribution or comment. Leaders of the audit's schools and trust admins may "
    "read `/results` at any time (while open: only the number of responses and the response "
    "rate); staff and governors of those schools once it has closed (403 before). In an audit "
    "across schools, anyone but a trust admin sees the whole audit and only their own "
    "schools' breakdown cells."
)
CLOSED_ONLY = " 409 until the audit has closed: there is nothing to show before."
SUPPRESSION = (
    "Any figure built from fewer respondents than the audit's `min_group_size` is withheld "
    "with the reason, and so is the next smallest cell wherever a withheld one could "
    "otherwise be worked out from a total or another breakdown of the same audit."
)
ByQuery = Annotated[
    list[str] | None,
    Query(
        description="Break the results down by one or two of: school, staff_group, "
        "department, career_stage, leadership (leaders v other staff). Repeat the parameter "
        "or separate with commas.",
    ),
]


@router.get(
    "/{audit_id}/results",
    response_model=schemas.AnyResults,
    summary="Audit results",
    description=(
        "Once the audit has closed (`status: closed`, `released: true`): per item and per "
        "section, n, mean, standard deviation and distribution; for paired items mean values, "
        "mean practice and the gap (values minus practice), ranked by gap; for agreement "
        "items percent agree (of those with a view) and percent don't know. `?by=` adds a "
        "breakdown; `?by=leadership` also compares leaders' and other staff's views item by "
        "item. While it is a draft or open (`released: false`): only `responses` and "
        "`response_rate` against the audience frozen at opening, whatever `?by=` asks. "
        + SUPPRESSION
        + " "
        + WHO
    ),
    responses=problems(403, 404, 422),
)
async def get_results(
    audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, by: ByQuery = None
) -> Response:
    dims = breakdowns.parse_by(by)
    results = await service.get_results(session, audit_id, principal=principal, by=dims)
    return resource_response(results)


@router.get(
    "/{audit_id}/results/chart.svg",
    response_class=Response,
    summary="Results chart (SVG)",
    description=(
        "For a values-v-practice instrument the 'rhetoric v reality' chart: two lines, "
        "values and practice, across the items, with labelled axes and a legend. For other "
        "instruments a bar chart of percent agree (agreement items) or of mean scores. "
        "Withheld items show as gaps. " + WHO + CLOSED_ONLY
    ),
    responses={200: {"content": {"image/svg+xml": {}}}, **problems(403, 404, 409)},
)
async def results_chart(
    audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    results = await service.get_released_results(session, audit_id, principal=principal)
    body = chart.render(results)
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"ETag": etag_of({"svg": body}), "Cache-Control": "private, no-cache"},
    )


@router.get(
    "/{audit_id}/results.csv",
    response_class=Response,
    summary="Results as CSV",
    description=(
        "The same numbers and the same suppression as `/results`: one row per item and per "
        "section, overall and then per breakdown cell when `?by=` is given. Cells that "
        "start like a spreadsheet formula are prefixed with a quote. " + WHO + CLOSED_ONLY
    ),
    responses={200: {"content": {"text/csv": {}}}, **problems(403, 404, 409, 422)},
)
async def results_csv(
    audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, by: ByQuery = None
) -> Response:
    dims = breakdowns.parse_by(by)
    results = await service.get_released_results(session, audit_id, principal=principal, by=dims)
    body = csv_export.render(results)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{audit_id}-results.csv"',
            "ETag": etag_of({"csv": body}),
        },
    )


@router.get(
    "/{audit_id}/compare/{other_id}",
    response_model=schemas.Comparison,
    summary="Compare two rounds",
    description=(
        "Per item change between two rounds of the same instrument (e.g. autumn v summer): "
        "later minus earlier, whichever order the ids come in. An item withheld in either "
        "round has no change shown; items only one round has are listed. 422 for rounds of "
        "different instruments. " + WHO + " 409 until both rounds have closed."
    ),
    responses=problems(403, 404, 409, 422),
)
async def compare(
    audit_id: uuid.UUID, other_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await comparison.compare(session, audit_id, other_id, principal=principal)
    )


@router.get(
    "/{audit_id}/suggested-needs",
    response_model=schemas.SuggestedNeeds,
    summary="Needs suggested by the results",
    description=(
        "The items with the largest gaps between values and practice (at least 0.5) and the "
        "lowest agreement (under 60% of those with a view), from published figures only, "
        "each with its evidence (item, gap or percent agree, n). Accept one into the needs "
        "register with `POST /v1/audits/{id}/suggested-needs/accept`. Leaders of the audit's "
        "schools and trust admins." + CLOSED_ONLY
    ),
    responses=problems(403, 404, 409),
)
async def suggested_needs(
    audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return resource_response(
        await suggestions.suggested_needs(session, audit_id, principal=principal)
    )
