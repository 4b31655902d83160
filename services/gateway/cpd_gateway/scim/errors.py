"""SCIM error bodies (RFC 7644 section 3.12): every failure under ``/scim/v2`` answers
``urn:ietf:params:scim:api:messages:2.0:Error`` with the status as a string and, where the
RFC names one, a ``scimType``. The directory's own errors (problem+json elsewhere) are
translated here, so the rules stay in one place."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scim2_models import Error, SCIMException
from starlette.exceptions import HTTPException as StarletteHTTPException

from cpd_common.errors import ProblemError, is_unique_violation

SCIM_JSON = "application/scim+json"

# Directory problems (by HTTP status) and the scimType they are, as RFC 7644 names them.
SCIM_TYPE_OF_STATUS = {409: "uniqueness", 422: "invalidValue"}


class ScimErrorBody(BaseModel):
    """A SCIM error (``urn:ietf:params:scim:api:messages:2.0:Error``)."""

    model_config = ConfigDict(title="ScimError", populate_by_name=True)

    schemas: list[str]
    status: str = Field(description="The HTTP status, as a string")
    scim_type: str | None = Field(default=None, alias="scimType")
    detail: str | None = None


def scim_error(
    status: int,
    detail: str,
    scim_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    return JSONResponse(body, status_code=status, headers=headers, media_type=SCIM_JSON)


def _details(errors: list[dict[str, Any]] | None) -> str:
    return "; ".join(f"{e.get('loc')}: {e.get('msg')}" for e in (errors or [])[:5])


def _validation(exc: ValidationError) -> JSONResponse:
    errors = Error.from_validation_errors(exc)
    first = errors[0] if errors else Error(status=400, scim_type="invalidSyntax", detail=str(exc))
    detail = "; ".join(e.detail or "" for e in errors[:5]) or "The request is not valid."
    return scim_error(int(first.status or 400), detail, first.scim_type)


def response_for(exc: Exception) -> JSONResponse | None:
    """The SCIM answer for an exception raised under ``/scim/v2`` (``None``: not ours to
    translate, e.g. the database being down, which the app's own handlers answer)."""
    if isinstance(exc, SCIMException):
        error = exc.to_error()
        status = int(error.status or exc.status)
        return scim_error(status, error.detail or exc.detail, error.scim_type)
    if isinstance(exc, ValidationError):
        return _validation(exc)
    if isinstance(exc, RequestValidationError):
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return scim_error(400, detail or "The request is not valid.", "invalidValue")
    if isinstance(exc, ProblemError):
        if exc.status == 422:
            detail = exc.detail
            if exc.errors:
                detail = f"{detail} {_details(exc.errors)}"
            return scim_error(400, detail, "invalidValue")
        return scim_error(
            exc.status, exc.detail, SCIM_TYPE_OF_STATUS.get(exc.status), headers=exc.headers
        )
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "The request failed."
        return scim_error(exc.status_code, detail, headers=getattr(exc, "headers", None))
    if is_unique_violation(exc):
        return scim_error(
            409, "Another request created the same resource first; read it and retry.", "uniqueness"
        )
    return None
