"""``/v1/evaluations/{id}/report`` (HTML) and ``report.svg``: the governor-ready report."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi import Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_evaluation.evaluations.access import get_plan
from cpd_evaluation.evaluations.routing import PREFIX, plan_router
from cpd_evaluation.reports import render, service

ABOUT = (
    "For governors and leaders: the question, what was done, the evidence at each level, "
    "the impact table with a plain reading of each effect size and its uncertainty, value "
    "for money and the next actions. Governors of the plan's schools read it (and nothing "
    "else of the evaluation but the plan itself)."
)
# The report is a document, not an app: no scripts, nothing fetched from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
    "X-Content-Type-Options": "nosniff",
}
NOT_FOUND = problems(
    403,
    404,
    described={
        403: "Staff and API clients do not read evaluation reports.",
        404: "No such plan that you may see: also the answer for another trust's.",
    },
)

router = plan_router()


def _media(kind: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {kind: {"schema": {"type": "string"}}}, "description": "The report"}}


def _document(body: str, media: str, filename: str) -> Response:
    raw = body.encode()
    return Response(
        raw,
        media_type=media,
        headers={
            "ETag": '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"',
            "Content-Disposition": f'inline; filename="{filename}"',
            **SECURITY_HEADERS,
        },
    )


@router.get(
    "/{plan_id}/report",
    summary="The evaluation report (HTML)",
    description=ABOUT,
    response_class=Response,
    responses={**_media("text/html"), **NOT_FOUND},
)
async def get_report(plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    record = await service.report_record(session, plan)
    html = render.render_html(record, chart_url=f"{PREFIX}/{plan.id}/report.svg")
    return _document(html, "text/html; charset=utf-8", f"evaluation-{plan.id}.html")


@router.get(
    "/{plan_id}/report.svg",
    summary="The evaluation report's charts (SVG)",
    description="Effect sizes with their 95% intervals, and the costs by kind.",
    response_class=Response,
    responses={**_media("image/svg+xml"), **NOT_FOUND},
)
async def get_report_chart(
    plan_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    plan = await get_plan(session, plan_id, principal=principal)
    record = await service.report_record(session, plan)
    return _document(render.render_svg(record), "image/svg+xml", f"evaluation-{plan.id}.svg")
