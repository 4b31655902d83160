"""``/v1/measures/{measure_id}/observations``: the values of a measure at baseline, short term
and medium term, uploaded as a JSON batch or a CSV file and listed by page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import Forbidden, problems
from cpd_common.http import etag_of, require_if_match
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.evaluations.routing import plan_router
from cpd_evaluation.measures import service as measures_service
from cpd_evaluation.models.measures import Observation
from cpd_evaluation.observations import export, pseudonyms, rows, schemas, service
from cpd_evaluation.observations.errors import UnsupportedUpload, UploadTooLarge
from cpd_evaluation.terms.measures import Phase

PREFIX = "/v1/measures"
# The platform's body limits (cpd_common.body_limit refuses larger bodies first): a CSV of
# 200,000 rows with every column is about 12 MiB; a JSON batch of 5,000 about 0.8 MiB.
MAX_CSV_BYTES = 20 << 20
MAX_JSON_BYTES = 1 << 20
CSV_TYPES = ("text/csv",)

OBSERVATION_PROBLEMS = {
    403: "Only leaders and trust admins read or record subject-level observations.",
    404: "No such measure that you may see: also the answer for another trust's.",
    409: "A subject already has a value at that phase (send `replace=true` to replace it).",
    413: "The body is too large (CSV up to 20 MiB and 200,000 rows; JSON up to 1 MiB and "
    "5,000 observations).",
    415: "Send `text/csv` or `application/json`.",
    422: "Bad rows or a bad header: `errors` names each (`body.rows.<line>.<column>` for a "
    "CSV, the header being line 1; `body.observations.<index>.<field>` for JSON). Nothing "
    "was stored.",
}

router = plan_router("measures", prefix=PREFIX)


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its ``$defs`` references inlined (for an OpenAPI request body that
    FastAPI does not parse itself)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return dict(resolve(schema))


CSV_EXAMPLE = (
    "pupil_id,phase,value,date,disadvantaged,send,year_group,group\n"
    "A123456789012,baseline,41,2025-09-15,true,false,Year 5,cpd\n"
)
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline(schemas.ObservationBatch.model_json_schema())},
            "text/csv": {
                "schema": {"type": "string", "example": CSV_EXAMPLE},
            },
        },
    }
}


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(f"The body may be at most {limit >> 20} MiB.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"The body may be at most {limit >> 20} MiB.")
        chunks.append(chunk)
    return b"".join(chunks)


def _batch(raw: bytes) -> schemas.ObservationBatch:
    try:
        return schemas.ObservationBatch.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
        ) from None


@router.post(
    "/{measure_id}/observations",
    status_code=201,
    response_model=schemas.UploadRead,
    summary="Record a measure's values (JSON batch or CSV upload)",
    description="Values at a phase (baseline, short_term, medium_term) per subject, with the "
    "subject's group flags (disadvantaged, send, year_group) and its arm of the design "
    "(`group`: cpd or comparison).\n\n"
    '**JSON**: `{"observations": [...]}`, up to 5,000. **CSV** (`text/csv`, UTF-8): a '
    "header row with `pupil_id` (pupil measures) or `person_id` (staff measures), `phase`, "
    "`value` and optionally `date`, `disadvantaged`, `send`, `year_group`, `group`. Columns "
    "that name or identify a pupil (any *name*, date of birth, address ...) are refused.\n\n"
    "**Pupil ids are pseudonymised on arrival** (HMAC-SHA256 under the trust's secret): "
    "the clear id is never stored or echoed.\n\n"
    "The upload is stored whole or not at all: one bad row and nothing is kept, with every "
    "bad row named. A subject that already has a value at a phase is a 409, unless "
    "`replace=true`, which replaces the held values. With `Idempotency-Key`, a retried "
    "upload stores nothing twice.",
    responses=problems(403, 404, 409, 413, 415, 422, described=OBSERVATION_PROBLEMS),
    openapi_extra=UPLOAD_BODY,
)
async def upload_observations(
    measure_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    replace: Annotated[
        bool,
        Query(description="Replace values already held for a subject and phase (else 409)."),
    ] = False,
) -> Response:
    kind = _content_type(request)
    if kind not in (*CSV_TYPES, "application/json"):
        raise UnsupportedUpload("Send observations as text/csv or application/json.")
    measure = await measures_service.get_measure(
        session, measure_id, principal=principal, write=True
    )
    secret = b""
    if measure.subjects == "pupils":
        secret = await pseudonyms.trust_secret(session, measure.trust_id)
    if kind == "application/json":
        batch = _batch(await _read_body(request, MAX_JSON_BYTES))
        problems_ = rows.Problems(rows.json_loc)
        reader = rows.RowReader(measure, secret, problems_)
        read, what = rows.read_batch(batch.observations, reader), "observation"
    else:
        raw = await _read_body(request, MAX_CSV_BYTES)
        problems_ = rows.Problems(rows.csv_loc)
        reader = rows.RowReader(measure, secret, problems_)
        read, what = rows.read_csv(raw, reader), "row"
    result = await service.store(
        session, measure, read, problems=problems_, replace=replace, what=what
    )
    return JSONResponse(
        result.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"{PREFIX}/{measure.id}/observations"},
    )


@router.delete(
    "/{measure_id}/observations",
    status_code=204,
    summary="Delete a measure's observations at one phase",
    description="Takes back an upload made to the wrong phase (a corrected one can also "
    "replace values with `replace=true`). `If-Match` carries the measure's ETag (from `GET "
    "/v1/evaluations/{plan_id}/measures/{measure_id}`, whose counts per phase change with "
    "every upload): 428 without it, 412 when the measure changed since.",
    responses=problems(403, 404, 412, 428, described=OBSERVATION_PROBLEMS),
)
async def delete_observations(
    measure_id: uuid.UUID,
    phase: Annotated[Phase, Query(description="The phase whose values go.")],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    measure = await measures_service.get_measure(
        session, measure_id, principal=principal, write=True
    )
    require_if_match(request, await measures_service.measure_read(session, measure))
    await service.delete_phase(session, measure, phase=phase)
    return Response(status_code=204)


@router.get(
    "/{measure_id}/observations.csv",
    summary="A measure's observations as CSV",
    description="Every observation (or one phase's), by phase then as recorded: "
    "`subject_key` (pupils by pseudonym only), `phase`, `value`, `date`, `disadvantaged`, "
    "`send`, `year_group`, `group`. For leaders and trust admins.",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "One row per observation."},
        **problems(403, 404, described=OBSERVATION_PROBLEMS),
    },
)
async def observations_csv(
    measure_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    phase: Annotated[Phase | None, Query()] = None,
) -> Response:
    measure = await measures_service.get_measure(session, measure_id, principal=principal)
    if not service.can_read_rows(principal):
        raise Forbidden(OBSERVATION_PROBLEMS[403])
    body = await export.to_csv(session, measure, phase=phase)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="observations-{measure.id}.csv"',
            "ETag": etag_of({"csv": body}),
        },
    )


@router.get(
    "/{measure_id}/observations",
    response_model=Page[schemas.ObservationRead],
    summary="List a measure's observations",
    description="Pupils appear by pseudonym only. For leaders and trust admins.",
    responses=problems(403, 404, described=OBSERVATION_PROBLEMS),
)
async def list_observations(
    measure_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    phase: Annotated[Phase | None, Query()] = None,
    subject_key: Annotated[
        str | None, Query(max_length=64, description="One subject's values")
    ] = None,
) -> Any:
    measure = await measures_service.get_measure(session, measure_id, principal=principal)
    if not service.can_read_rows(principal):
        raise Forbidden(OBSERVATION_PROBLEMS[403])
    stmt = service.list_query(measure, phase=phase, subject_key=subject_key)
    found, cursor = await paginate(session, stmt, Observation.id, page)
    return Page[schemas.ObservationRead](
        items=[schemas.ObservationRead.model_validate(o) for o in found], next_cursor=cursor
    )
