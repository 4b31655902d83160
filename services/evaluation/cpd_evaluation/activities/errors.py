"""Errors of the activity aggregate."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class ActivityNotFound(NotFound):
    code, title = "activity-not-found", "Activity not found"


class CannotChangeActivity(Forbidden):
    code, title = "activity-read-only", "You can read this activity but not change it"


class CannotCreateActivity(Forbidden):
    code, title = "cannot-create-activity", "You cannot record activities"


class ActivityCancelled(Conflict):
    code, title = "activity-cancelled", "The activity is cancelled"


class ManagedElsewhere(Conflict):
    code, title = "activity-managed-elsewhere", "The activity is kept by another service"


class InvalidActivity(Unprocessable):
    pass
