"""Errors of learning communities."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class InvalidCommunity(Unprocessable):
    pass


class CommunityRecordNotFound(NotFound):
    code, title = "community-record-not-found", "Not found in this learning community"


class AlreadyLinked(Conflict):
    code, title = "already-linked", "Already run by a learning community"


class LeadersOnly(Forbidden):
    code, title = "community-overview-leaders-only", "For school leaders and trust admins"
