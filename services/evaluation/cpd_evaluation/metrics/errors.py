"""Errors of the QA metrics."""

from __future__ import annotations

from cpd_common.errors import Forbidden, NotFound


class QaReadersOnly(Forbidden):
    code, title = "qa-readers-only", "QA metrics are for QA API clients"


class TrustAdminsOnly(Forbidden):
    code, title = "metric-releases-admins-only", "The release log is for trust admins"


class SchoolNotFound(NotFound):
    code, title = "school-not-found", "No such school in your trust"
