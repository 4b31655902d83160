"""Errors of findings, completion and the open-house lesson."""

from __future__ import annotations

from cpd_common.errors import NotFound, Unprocessable


class FindingsNotFound(NotFound):
    code, title = "findings-not-found", "No findings agreed yet"


class OpenHouseNotFound(NotFound):
    code, title = "open-house-not-found", "No open-house lesson recorded yet"


class InvalidFindings(Unprocessable):
    pass
