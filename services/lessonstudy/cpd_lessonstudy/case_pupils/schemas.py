"""Case pupils in and out. Never a name: a label and an anonymous profile."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator
from pydantic.config import JsonDict

from cpd_common.schemas import InputModel as Input
from cpd_common.schemas import OutputModel
from cpd_lessonstudy.case_pupils.privacy import LABEL_PATTERN, ProfileText, label_problem

PRIVACY_WARNING = (
    "**Never identify a pupil.** The profile describes the kind of learner the case pupil "
    "stands for (e.g. 'typical of the lower-attaining third; finds written explanations hard; "
    "EAL'), never the child: no name, initials, date of birth, pupil number or detail that "
    "would let a reader recognise them. Text carrying an obvious identifier is refused (422)."
)
LABEL_DOC = (
    "1-3 letters or digits, e.g. A, B, C (stored upper-case). Never a name: common first "
    "names are refused."
)
LABEL_SCHEMA: JsonDict = {"minLength": 1, "maxLength": 3, "pattern": LABEL_PATTERN}


def _check_label(value: str) -> str:
    problem = label_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.upper()


class CasePupilCreate(Input):
    label: str = Field(description=LABEL_DOC, json_schema_extra=LABEL_SCHEMA)
    profile: ProfileText = Field(min_length=1, max_length=2000, description=PRIVACY_WARNING)
    starting_point: ProfileText | None = Field(
        None, max_length=2000, description="Current attainment in the focus of the study."
    )
    success_criteria: ProfileText | None = Field(
        None,
        max_length=2000,
        description="What you are looking for from this pupil by the end of the lesson.",
    )

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        return _check_label(value)


class CasePupilUpdate(Input):
    label: str | None = Field(None, description=LABEL_DOC, json_schema_extra=LABEL_SCHEMA)
    profile: ProfileText | None = Field(
        None, min_length=1, max_length=2000, description=PRIVACY_WARNING
    )
    starting_point: ProfileText | None = Field(None, max_length=2000)
    success_criteria: ProfileText | None = Field(None, max_length=2000)

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("label cannot be null")
        return _check_label(value)

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("profile cannot be null")
        return value


class CasePupilRead(OutputModel):
    id: uuid.UUID
    study_id: uuid.UUID
    label: str
    position: int
    profile: str = Field(description=PRIVACY_WARNING)
    starting_point: str | None
    success_criteria: str | None
    created_at: datetime
    updated_at: datetime
