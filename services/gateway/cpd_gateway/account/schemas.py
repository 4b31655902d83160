"""Bodies of ``/v1/me`` and the password endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from cpd_common.schemas import InputModel, OutputModel

Password = Field(min_length=12, max_length=200)


class Named(OutputModel):
    id: uuid.UUID
    name: str


class MeRead(OutputModel):
    kind: Literal["person", "client"]
    id: uuid.UUID
    name: str
    email: str | None = None
    client_id: str | None = None
    trust: Named
    schools: list[Named]
    roles: list[str]
    permissions: list[str] = Field(
        description="Capability strings (`resource:action`) the caller's roles grant; hints "
        "for what to show, every request is still checked."
    )
    has_password: bool = False
    session_id: uuid.UUID | None = Field(
        default=None, description="The front-end session this access token belongs to."
    )


class PasswordChange(InputModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Password


class PasswordResetIssued(OutputModel):
    person_id: uuid.UUID
    reset_token: str = Field(description="Shown once: hand it to the person.")
    expires_at: datetime


class PasswordResetRedeem(InputModel):
    reset_token: str = Field(min_length=1, max_length=200)
    new_password: str = Password
