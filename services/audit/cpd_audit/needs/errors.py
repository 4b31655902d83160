"""Errors of the needs register."""

from __future__ import annotations

from cpd_common.errors import NotFound


class NeedNotFound(NotFound):
    title = "Need not found"


class SuggestionNotFound(NotFound):
    title = "Suggested need not found"
