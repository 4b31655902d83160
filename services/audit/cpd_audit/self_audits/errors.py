"""Errors of self-audits."""

from __future__ import annotations

from cpd_common.errors import NotFound


class SelfAuditNotFound(NotFound):
    title = "Self-audit not found"
