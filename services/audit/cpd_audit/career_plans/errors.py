"""Errors of career plans."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound


class CareerPlanNotFound(NotFound):
    title = "Career plan not found"


class ShareNotFound(NotFound):
    title = "Share not found"


class CareerPlanYearTaken(Conflict):
    title = "Career plan for this year exists"
