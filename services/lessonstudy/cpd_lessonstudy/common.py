"""Pieces every router of the service shares."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from cpd_common.auth import require_roles
from cpd_lessonstudy.studies.access import STUDY_ROLES

PREFIX = "/v1/lesson-studies"
# Governors and API clients never see lesson studies: 403 before any lookup.
STUDY_ROLE_GUARD = [Depends(require_roles(*STUDY_ROLES))]

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such lesson study (or item) that you may see: also the answer for another trust's."
    }
}
MEMBERS_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "You may read this study but only its members can change it."}
}
PATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    **MEMBERS_ONLY,
    412: {"description": "If-Match does not match the current ETag."},
    428: {"description": "If-Match is missing."},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Not possible in the current state of the study or lesson (the detail says what to do first)."
    }
}
IF_MATCH_DELETE = (
    "Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale), "
    "like PATCH."
)
WRITE_RESPONSES = {**NOT_FOUND, **MEMBERS_ONLY, **CONFLICT}
