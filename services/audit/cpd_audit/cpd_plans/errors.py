"""Errors of strategic CPD plans."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound


class CpdPlanNotFound(NotFound):
    title = "CPD plan not found"


class CpdPlanRowNotFound(NotFound):
    title = "CPD plan row not found"


class CpdPlanExists(Conflict):
    title = "CPD plan already exists"
