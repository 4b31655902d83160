"""Pieces the activity routers share: the path prefix, the role guard and documented answers."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from cpd_common.auth import require_roles
from cpd_evaluation.activities.access import ACTIVITY_ROLES

PREFIX = "/v1/activities"
# Governors and API clients never see activities: 403 before any lookup.
ACTIVITY_ROLE_GUARD = [Depends(require_roles(*ACTIVITY_ROLES))]

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such activity (or item) that you may see: also the answer for another trust's."
    }
}
READ_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"description": "You may read this but not change it."}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Not possible in the activity's current state (cancelled, or kept by a lesson study)."
    }
}
PRECONDITIONS: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match does not match the current ETag."},
    428: {"description": "If-Match is missing."},
}
WRITE_RESPONSES = {**NOT_FOUND, **READ_ONLY, **CONFLICT}
PATCH_RESPONSES = {**WRITE_RESPONSES, **PRECONDITIONS}
