"""Errors of study membership."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound, Unprocessable


class MemberNotFound(NotFound):
    code, title = "member-not-found", "Member not found"


class AlreadyMember(Conflict):
    code, title = "already-member", "Already a member"


class MemberHasRecord(Conflict):
    code, title = "member-has-record", "The member is part of the study's record"


class InvalidMember(Unprocessable):
    pass
