"""Errors of career plans."""

from __future__ import annotations

from cpd_common.errors import NotFound


class CareerPlanNotFound(NotFound):
    title = "Career plan not found"


class ShareNotFound(NotFound):
    title = "Share not found"
