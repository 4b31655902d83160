"""Errors of alignment plans."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound


class AlignmentPlanNotFound(NotFound):
    title = "Alignment plan not found"


class AlignmentPlanExists(Conflict):
    title = "Alignment plan already exists"
