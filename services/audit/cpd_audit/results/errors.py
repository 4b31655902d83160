"""Errors of audit results."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden


class ResultsNotReleased(Conflict):
    title = "Results are released when the audit closes"


class OwnSchoolsOnly(Forbidden):
    title = "Only your own schools' cells"
