"""Errors shared by practitioner groups (enquiries and learning communities)."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class GroupMembersOnly(Forbidden):
    code, title = "group-members-only", "Only the group's members can change it"


class CannotCreateGroup(Forbidden):
    code, title = "cannot-create-group", "You cannot create this"


class GroupMemberNotFound(NotFound):
    code, title = "member-not-found", "Member not found"


class AlreadyMember(Conflict):
    code, title = "already-member", "Already a member"


class CoordinatorTaken(Conflict):
    code, title = "coordinator-taken", "The group already has a coordinator"


class MemberHasRecord(Conflict):
    code, title = "member-has-record", "The member is part of the group's record"


class InvalidGroup(Unprocessable):
    pass
