"""HTTP endpoints of responses (``/v1/audits/{id}/responses``).

Deliberately a plain ``APIRoute``, not ``ApiRoute``: honouring ``Idempotency-Key`` would
store a hash of the answers next to the caller's identity, which would undo anonymity. A
retried submission gets 409 instead, and ``/responses/me`` says it was recorded.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from cpd_audit.responses import schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems

router = APIRouter(prefix="/v1/audits", tags=["responses"])


@router.post(
    "/{audit_id}/responses",
    status_code=201,
    response_model=schemas.ResponseReceipt,
    summary="Respond to an audit",
    description=(
        "Submits your answers, once (409 on a second try). You must be in the audience (your "
        "staff group and school; else 403) and the audit must be open (else 409). Every "
        "required item needs an answer, scores must be in range and choices valid; a 422 "
        "lists every problem in `errors`. The answers are stored without your identity, with "
        "your school, staff group, department and career stage copied for breakdowns, and "
        "only the day: they are never shown back to anyone, you included. `Idempotency-Key` "
        "is ignored here (it would tie your answers to you)."
    ),
    responses=problems(403, 404, 409, 422),
)
async def submit_response(
    audit_id: uuid.UUID,
    body: schemas.ResponseCreate,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    receipt = await service.submit_response(session, audit_id, body, principal=principal)
    return JSONResponse(
        receipt.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/audits/{audit_id}/responses/me"},
    )


@router.get(
    "/{audit_id}/responses/me",
    response_model=schemas.MyResponse,
    summary="Have I responded?",
    description=(
        "Whether you have responded (and on which day), and whether you can. Never your "
        "answers: they are not linked to you."
    ),
    responses=problems(403, 404),
)
async def my_response(
    audit_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> schemas.MyResponse:
    return await service.my_response(session, audit_id, principal=principal)
