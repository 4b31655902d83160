"""Errors of dashboards."""

from __future__ import annotations

from cpd_common.errors import Forbidden, NotFound


class SchoolNotFound(NotFound):
    code, title = "school-not-found", "No such school that you may see"


class TrustAdminsOnly(Forbidden):
    code, title = "trust-dashboard-admins-only", "The trust dashboard is for trust admins"
