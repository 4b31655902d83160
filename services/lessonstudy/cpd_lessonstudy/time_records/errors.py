"""Errors of time records."""

from __future__ import annotations

from cpd_common.errors import NotFound, Unprocessable


class TimeRecordNotFound(NotFound):
    code, title = "time-record-not-found", "Time record not found"


class InvalidTimeRecord(Unprocessable):
    pass
