"""How the lesson-study routes are declared: their path prefix, the role guard every one of them
has, and their documented problem answers in the study's words."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from cpd_common.auth import require_roles
from cpd_common.errors import problems
from cpd_common.idempotency import api_router
from cpd_lessonstudy.studies.access import STUDY_ROLES

PREFIX = "/v1/lesson-studies"
# Governors and API clients never see lesson studies: 403 before any lookup.
STUDY_ROLE_GUARD = [Depends(require_roles(*STUDY_ROLES))]


def study_router(tag: str) -> APIRouter:
    """A router of lesson-study routes: under ``PREFIX``, behind the role guard, one tag."""
    return api_router(PREFIX, tag, roles=STUDY_ROLES)


# The documented problem answers of the study routes, in the study's words.
STUDY_PROBLEMS = {
    403: "You may read this study but only its members can change it.",
    404: "No such lesson study (or item) that you may see: also the answer for another trust's.",
    409: "Not possible in the current state of the study or lesson (the detail says what to do "
    "first).",
}
NOT_FOUND = problems(404, described=STUDY_PROBLEMS)
MEMBERS_ONLY = problems(403, described=STUDY_PROBLEMS)
PATCH_RESPONSES = problems(403, 404, 412, 428, described=STUDY_PROBLEMS)
CONFLICT = problems(409, described=STUDY_PROBLEMS)
WRITE_RESPONSES = problems(403, 404, 409, described=STUDY_PROBLEMS)
IF_MATCH_DELETE = (
    "Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale), "
    "like PATCH."
)
