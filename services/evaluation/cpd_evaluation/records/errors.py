"""Errors of people's CPD records."""

from __future__ import annotations

from cpd_common.errors import NotFound


class RecordNotFound(NotFound):
    code, title = "cpd-record-not-found", "CPD record not found"
