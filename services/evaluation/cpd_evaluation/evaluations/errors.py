"""Errors of the evaluation plan aggregate."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class PlanNotFound(NotFound):
    code, title = "evaluation-plan-not-found", "Evaluation plan not found"


class CannotChangePlan(Forbidden):
    code, title = "evaluation-plan-read-only", "You can read this evaluation plan but not change it"


class ActivityAlreadyPlanned(Conflict):
    code, title = "activity-already-planned", "The activity already belongs to an evaluation plan"


class StatusGoesBack(Conflict):
    code, title = "evaluation-status-backwards", "An evaluation plan's status only moves forward"


class InvalidPlan(Unprocessable):
    pass
