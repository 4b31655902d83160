"""Errors of responses."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden


class AlreadyResponded(Conflict):
    title = "Already responded"


class AuditNotOpen(Conflict):
    title = "Audit is not open"


class NotInAudience(Forbidden):
    title = "Not in this audit's audience"
