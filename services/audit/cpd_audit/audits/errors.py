"""Errors of the audits aggregate."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound


class AuditNotFound(NotFound):
    title = "Audit not found"


class IllegalTransition(Conflict):
    title = "Illegal state transition"


class AuditNotDraft(Conflict):
    title = "Audit is no longer a draft"


class NotAuditManager(Forbidden):
    title = "Only leaders of every school in the audit's scope may do this"


class ResultsNotPublished(Forbidden):
    title = "Results are not published yet"
