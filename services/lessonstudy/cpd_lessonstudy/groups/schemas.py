"""Group membership in and out (enquiries and learning communities)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.terms import GroupRole


class GroupMemberCreate(Input):
    person_id: uuid.UUID = Field(description="A person of your trust (from /v1/people).")
    role: GroupRole = Field("member", description="coordinator (at most one per group) or member.")


class GroupMemberUpdate(Input):
    role: GroupRole


class GroupMemberRead(OutputModel):
    id: uuid.UUID
    person_id: uuid.UUID | None = Field(description="Null for a former (erased) member.")
    name: str = Field(description='"Former member" once the person was erased.')
    role: GroupRole
    former_member: bool
    school_ids: list[uuid.UUID] = Field(description="The person's schools in the directory.")
    created_at: datetime
