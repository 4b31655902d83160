"""``/v1/lesson-studies/{id}/report`` (HTML or Markdown by Accept), ``report.html``, ``report.md``."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi import Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import ProblemError
from cpd_lessonstudy.reports import render, service
from cpd_lessonstudy.studies.routing import NOT_FOUND, study_router

router = study_router("lesson studies: report")

HTML = "text/html"
MARKDOWN = "text/markdown"
ABOUT = (
    "The write-up a group shares, readable by a colleague who was not there: the focus, the "
    "group, the case pupils and their journeys across the cycles, a prediction v observation "
    "grid for every research lesson, pupil voice, the post-lesson discussions, what changed "
    "between lessons, the findings, the open-house lesson and how the process was followed. "
    "A study that is not completed yet gets a draft."
)


class NotAcceptable(ProblemError):
    status, code, title = 406, "not-acceptable", "Not acceptable"


def _media(kind: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {kind: {"schema": {"type": "string"}}}, "description": "The report"}}


def choose(accept: str | None) -> str:
    """text/html or text/markdown from an Accept header: the higher quality wins, an explicit
    type beats a wildcard, and HTML wins a tie (or when there is no header)."""
    if not accept:
        return HTML
    explicit: dict[str, float] = {}
    wildcard = 0.0
    for part in accept.split(","):
        kind, *params = (p.strip().lower() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if kind in (HTML, "application/xhtml+xml"):
            explicit[HTML] = max(explicit.get(HTML, 0.0), q)
        elif kind in (MARKDOWN, "text/x-markdown"):
            explicit[MARKDOWN] = max(explicit.get(MARKDOWN, 0.0), q)
        elif kind in ("*/*", "text/*"):
            wildcard = max(wildcard, q)
    q_html = explicit.get(HTML, wildcard)
    q_markdown = explicit.get(MARKDOWN, wildcard)
    if max(q_html, q_markdown) <= 0:
        raise NotAcceptable("The report comes as text/html or text/markdown.")
    return MARKDOWN if q_markdown > q_html else HTML


async def _report(session: Any, study_id: uuid.UUID, principal: Any, kind: str) -> Response:
    record = await service.study_record(session, study_id, principal=principal)
    if kind == MARKDOWN:
        body = render.render_markdown(record)
        media = "text/markdown; charset=utf-8"
        suffix = "md"
    else:
        body = render.render_html(record)
        media = "text/html; charset=utf-8"
        suffix = "html"
    raw = body.encode()
    return Response(
        raw,
        media_type=media,
        headers={
            "ETag": '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"',
            "Content-Disposition": f'inline; filename="lesson-study-{study_id}.{suffix}"',
            "Vary": "Accept",
        },
    )


@router.get(
    "/{study_id}/report",
    summary="The lesson study report (HTML or Markdown)",
    description=ABOUT + " Send `Accept: text/markdown` for Markdown; HTML otherwise.",
    response_class=Response,
    responses={
        200: {
            "content": {
                HTML: {"schema": {"type": "string"}},
                MARKDOWN: {"schema": {"type": "string"}},
            },
            "description": "The report",
        },
        406: {"description": "Neither HTML nor Markdown is acceptable."},
        **NOT_FOUND,
    },
)
async def get_report(
    study_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    return await _report(session, study_id, principal, choose(request.headers.get("accept")))


@router.get(
    "/{study_id}/report.html",
    summary="The lesson study report as HTML",
    description=ABOUT,
    response_class=Response,
    responses={**_media(HTML), **NOT_FOUND},
)
async def get_report_html(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return await _report(session, study_id, principal, HTML)


@router.get(
    "/{study_id}/report.md",
    summary="The lesson study report as Markdown",
    description=ABOUT,
    response_class=Response,
    responses={**_media(MARKDOWN), **NOT_FOUND},
)
async def get_report_markdown(
    study_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    return await _report(session, study_id, principal, MARKDOWN)
