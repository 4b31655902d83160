"""HTTP conventions: ETag / If-Match on single resources, Location on creates."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cpd_common.errors import PreconditionFailed, PreconditionRequired


def etag_of(body: BaseModel | dict[str, Any]) -> str:
    """A strong ETag over the resource's JSON representation."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else jsonable_encoder(body)
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    return '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def resource_response(
    body: BaseModel, *, status_code: int = 200, location: str | None = None
) -> Response:
    """A single resource with its ETag (and Location on 201)."""
    headers = {"ETag": etag_of(body)}
    if location:
        headers["Location"] = location
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


def require_if_match(request: Request, current: BaseModel | dict[str, Any]) -> None:
    """PATCH rules: no ``If-Match`` is 428; one that does not match the current ETag is 412."""
    header = request.headers.get("if-match")
    if not header:
        raise PreconditionRequired(
            "Send If-Match with the ETag from your last GET of this resource."
        )
    current_tag = etag_of(current)
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if "*" not in tags and current_tag not in tags:
        raise PreconditionFailed(
            "The resource changed since you read it; GET it again and retry with the new ETag."
        )
