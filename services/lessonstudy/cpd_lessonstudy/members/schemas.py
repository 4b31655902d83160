"""Study membership in and out."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.terms import MemberRole


class MemberCreate(Input):
    person_id: uuid.UUID = Field(description="A person of your trust (from /v1/people).")
    role: MemberRole = Field(
        description="teacher, observer, facilitator or knowledgeable_other. Teachers, observers "
        "and facilitators belong to one of the study's schools; a knowledgeable other may come "
        "from any school of the trust."
    )


class MemberUpdate(Input):
    role: MemberRole


class MemberRead(OutputModel):
    id: uuid.UUID
    study_id: uuid.UUID
    person_id: uuid.UUID | None = Field(description="Null for a former (erased) member.")
    name: str = Field(description='"Former member" once the person was erased.')
    role: MemberRole
    former_member: bool
    school_ids: list[uuid.UUID] = Field(description="The person's schools in the directory.")
    created_at: datetime
