"""The report of a people import (``POST /v1/imports/people``)."""

from __future__ import annotations

import uuid

from pydantic import Field

from cpd_common.schemas import OutputModel


class ImportedPerson(OutputModel):
    row: int = Field(description="The row in the file (the header is row 1)")
    person_id: uuid.UUID = Field(description="The person's id (chosen now for a new person)")
    external_id: str | None
    email: str | None
    name: str | None


class ChangedPerson(ImportedPerson):
    changed: list[str] = Field(description="The columns whose values change")


class InvalidCell(OutputModel):
    row: int
    column: str
    reason: str


class MissingPerson(OutputModel):
    """A person ``deactivate_missing=true`` deactivates: HR-managed, in the file's scope, and
    not named by the file."""

    person_id: uuid.UUID
    name: str
    external_id: str | None
    reason: str


class ImportReport(OutputModel):
    dry_run: bool
    applied: bool = Field(description="Whether the directory changed (never on a dry run)")
    rows: int
    created: list[ImportedPerson]
    updated: list[ChangedPerson]
    deactivated: list[ChangedPerson] = Field(
        description="People the file deactivates (active false), with anything else that changes"
    )
    deactivated_missing: list[MissingPerson] = Field(
        default_factory=list,
        description="With `deactivate_missing=true`: the people of the file's scope who carry an "
        "external id and whom the file does not name, deactivated (empty otherwise)",
    )
    unchanged: int
    invalid: list[InvalidCell]
    ignored_columns: list[str] = Field(description="Columns of the file that are not read")
