"""How the activity routes are declared: their path prefix, the role guard every one of them
has, and their documented problem answers in the activity's words."""

from __future__ import annotations

from fastapi import Depends

from cpd_common.auth import require_roles
from cpd_common.errors import problems
from cpd_evaluation.activities.access import ACTIVITY_ROLES

PREFIX = "/v1/activities"
# Governors and API clients never see activities: 403 before any lookup.
ACTIVITY_ROLE_GUARD = [Depends(require_roles(*ACTIVITY_ROLES))]

# The documented problem answers of the activity routes, in the activity's words.
ACTIVITY_PROBLEMS = {
    403: "You may read this but not change it.",
    404: "No such activity (or item) that you may see: also the answer for another trust's.",
    409: "Not possible in the activity's current state (cancelled, or kept by a lesson study).",
}
NOT_FOUND = problems(404, described=ACTIVITY_PROBLEMS)
READ_ONLY = problems(403, described=ACTIVITY_PROBLEMS)
CONFLICT = problems(409, described=ACTIVITY_PROBLEMS)
PRECONDITIONS = problems(412, 428)
WRITE_RESPONSES = problems(403, 404, 409, described=ACTIVITY_PROBLEMS)
PATCH_RESPONSES = problems(403, 404, 409, 412, 428, described=ACTIVITY_PROBLEMS)
