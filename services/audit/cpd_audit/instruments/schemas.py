"""Instrument (survey template) payloads: sections and four item types."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from cpd_common.schemas import InputModel, OutputModel

ItemKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="The item's key, numbered as its framework numbers it (e.g. `3c`).",
    ),
]
SectionKey = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")]

AGREEMENT_LABELS = {
    5: ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"],
    4: ["Strongly disagree", "Disagree", "Agree", "Strongly agree"],
}


def agree_from(points: int) -> int:
    """The lowest score that counts as agreeing: 4 of 5, 3 of 4."""
    return 4 if points == 5 else 3


class Section(InputModel):
    key: SectionKey
    title: str = Field(min_length=1, max_length=200)


class _ItemBase(InputModel):
    key: ItemKey
    section: SectionKey | None = Field(None, description="Key of the section it belongs to.")
    text: str = Field(min_length=1, max_length=2000)
    required: bool = True


class PairedScaleItem(_ItemBase):
    """Scored twice on the same scale: how far it fits our aims and values, and how far it is
    what actually happens (the gap between them is values minus practice)."""

    type: Literal["paired_scale"]
    scale_max: int = Field(5, ge=3, le=10, description="Scores run from 1 to this.")
    values_label: str = Field("Fits our aims and values", max_length=200)
    practice_label: str = Field("What actually happens here", max_length=200)
    low_label: str = Field("Not at all", max_length=100)
    high_label: str = Field("Completely", max_length=100)


class AgreementItem(_ItemBase):
    """Agreement on a 4- or 5-point scale (1 = strongly disagree), optionally with "don't
    know" and an optional comment."""

    type: Literal["agreement"]
    points: Literal[4, 5] = 5
    dont_know: bool = True
    comment: bool = False


class Choice(InputModel):
    key: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")]
    label: str = Field(min_length=1, max_length=200)


class SingleChoiceItem(_ItemBase):
    type: Literal["single_choice"]
    choices: list[Choice] = Field(min_length=2, max_length=30)

    @model_validator(mode="after")
    def _unique_choices(self) -> SingleChoiceItem:
        keys = [c.key for c in self.choices]
        if len(set(keys)) != len(keys):
            raise ValueError("choice keys must be unique")
        return self


class FreeTextItem(_ItemBase):
    """Free text. Shown in results only when the whole audit reaches its minimum group size,
    and never with the respondent's attributes."""

    type: Literal["free_text"]
    required: bool = False
    max_length: int = Field(2000, ge=1, le=10000)


Item = Annotated[
    PairedScaleItem | AgreementItem | SingleChoiceItem | FreeTextItem,
    Field(discriminator="type"),
]


class _ContentChecks(InputModel):
    sections: list[Section] | None = None
    items: list[Item] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _ContentChecks:
        # A partial update is checked against the current version by the service.
        if self.items is not None and (self.sections is not None or self._complete):
            check_content(self.sections or [], self.items)
        return self

    _complete = False


def check_content(sections: list[Section], items: list[Item]) -> None:
    section_keys = [s.key for s in sections]
    if len(set(section_keys)) != len(section_keys):
        raise ValueError("section keys must be unique")
    item_keys = [i.key for i in items]
    if len(set(item_keys)) != len(item_keys):
        raise ValueError("item keys must be unique")
    unknown = sorted({i.section for i in items if i.section and i.section not in section_keys})
    if unknown:
        raise ValueError(f"items name sections that do not exist: {', '.join(unknown)}")


class InstrumentCreate(_ContentChecks):
    """A custom instrument of your trust (version 1)."""

    _complete = True

    key: (
        Annotated[str, Field(min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$")] | None
    ) = Field(None, description="A short slug, unique in your trust; made up if absent.")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    framework: str | None = Field(None, max_length=200)
    sections: list[Section] = Field(default_factory=list, max_length=50)
    items: list[Item] = Field(min_length=1, max_length=200)


class InstrumentUpdate(_ContentChecks):
    """What changes (send only that). Changing the sections or items of a version that an
    audit already uses makes a new version; the old one stays as it was."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    framework: str | None = Field(None, max_length=200)
    sections: list[Section] | None = Field(None, max_length=50)
    items: list[Item] | None = Field(None, min_length=1, max_length=200)


class VersionSummary(OutputModel):
    id: uuid.UUID
    version: int
    created_at: datetime
    in_use: bool = Field(description="An audit uses it: it can no longer change.")


class InstrumentVersionRead(OutputModel):
    id: uuid.UUID
    instrument_id: uuid.UUID
    version: int
    title: str
    description: str
    sections: list[Section]
    items: list[Item]
    created_at: datetime
    in_use: bool


class InstrumentRead(OutputModel):
    id: uuid.UUID
    key: str
    kind: Literal["builtin", "custom"]
    title: str
    description: str
    framework: str | None
    latest_version: int
    item_count: int
    current: InstrumentVersionRead = Field(description="The latest version's sections and items.")
    versions: list[VersionSummary]
    created_at: datetime
    updated_at: datetime


class InstrumentSummary(OutputModel):
    id: uuid.UUID
    key: str
    kind: Literal["builtin", "custom"]
    title: str
    description: str
    framework: str | None
    latest_version: int
    latest_version_id: uuid.UUID
    item_count: int
    item_types: list[str]
