"""Errors of a plan's staff-perception pair of audit rounds."""

from __future__ import annotations

from cpd_common.errors import NotFound, Unprocessable


class NoAuditRounds(NotFound):
    code, title = "audit-rounds-not-named", "The plan names no audit rounds"


class InvalidAuditRounds(Unprocessable):
    code, title = "invalid-audit-rounds", "These audit rounds cannot be paired"
