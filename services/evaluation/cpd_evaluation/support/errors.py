"""Errors of organisational support records."""

from __future__ import annotations

from cpd_common.errors import NotFound, Unprocessable


class SupportNotFound(NotFound):
    code, title = "support-record-not-found", "Support record not found"


class InvalidSupport(Unprocessable):
    pass
