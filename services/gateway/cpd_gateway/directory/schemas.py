"""Request and response bodies of the directory."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from cpd_common.auth import ClientRole, PersonRole
from cpd_common.schemas import InputModel, OutputModel

StaffGroup = Literal["teacher", "teaching_assistant", "support", "leader", "governor"]
CareerStage = Literal["ect", "early_career", "mid_career", "experienced"]
Email = Annotated[
    str,
    Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["jo@school.example"]),
]
Phase = Literal["nursery", "primary", "secondary", "all_through", "special", "post16", "other"]


Deprovisioning = Literal["deactivate", "erase"]


class TrustRead(OutputModel):
    id: uuid.UUID
    name: str
    deprovisioning: Deprovisioning = Field(
        description="What an HR system's SCIM DELETE does after deactivating the person: "
        "`deactivate` keeps the record, `erase` runs right-to-erasure at once."
    )
    created_at: datetime


class TrustUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    deprovisioning: Deprovisioning | None = None


class SchoolCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    phase: Phase | None = None
    urn: str | None = Field(default=None, max_length=20, description="The school's URN")


class SchoolUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phase: Phase | None = None
    urn: str | None = Field(default=None, max_length=20)


class SchoolRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    name: str
    phase: str | None
    urn: str | None
    created_at: datetime
    updated_at: datetime


class PersonCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email | None = None
    school_ids: list[uuid.UUID] = Field(default_factory=list)
    staff_group: StaffGroup | None = None
    department: str | None = Field(default=None, max_length=100)
    career_stage: CareerStage | None = None
    fte: float | None = Field(default=None, ge=0, le=1)
    start_date: date | None = None
    line_manager_id: uuid.UUID | None = None
    roles: list[PersonRole] = Field(default_factory=lambda: list[PersonRole](["staff"]))
    active: bool = True
    external_id: str | None = Field(default=None, max_length=200)
    user_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=320,
        description="The HR system's user name (SCIM userName)",
    )
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    employee_number: str | None = Field(default=None, max_length=100, description="Staff number")
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=200,
        description="Sets a local login (needs email). Omit when people sign in via SSO.",
    )


class PersonUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    school_ids: list[uuid.UUID] | None = None
    staff_group: StaffGroup | None = None
    department: str | None = Field(default=None, max_length=100)
    career_stage: CareerStage | None = None
    fte: float | None = Field(default=None, ge=0, le=1)
    start_date: date | None = None
    line_manager_id: uuid.UUID | None = None
    roles: list[PersonRole] | None = None
    active: bool | None = None
    external_id: str | None = Field(default=None, max_length=200)
    user_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=320,
        description="The HR system's user name (SCIM userName)",
    )
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    employee_number: str | None = Field(default=None, max_length=100, description="Staff number")
    password: str | None = Field(default=None, min_length=12, max_length=200)


class PersonRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    name: str
    email: str | None
    school_ids: list[uuid.UUID]
    staff_group: str | None
    department: str | None
    career_stage: str | None
    fte: float | None
    start_date: date | None
    line_manager_id: uuid.UUID | None
    roles: list[str]
    active: bool
    external_id: str | None
    user_name: str | None
    given_name: str | None
    family_name: str | None
    employee_number: str | None
    has_login: bool = False
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ErasureServiceRead(OutputModel):
    service: str
    status: Literal["pending", "confirmed"]
    confirmed_at: datetime | None = Field(description="When the service finished erasing.")


class ErasureRead(OutputModel):
    person_id: uuid.UUID
    status: Literal["erased"]
    erased_at: datetime
    services_notified: list[str]
    complete: bool = Field(description="Every service has confirmed.")
    services: list[ErasureServiceRead] = Field(
        description="Each service (the gateway included): pending until it publishes that it "
        "finished erasing (`cpd.<service>.erasure.completed`), then confirmed with the time."
    )


class GroupCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    school_id: uuid.UUID | None = None
    member_ids: list[uuid.UUID] = Field(default_factory=list)
    external_id: str | None = Field(default=None, max_length=200)


class GroupUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    school_id: uuid.UUID | None = None
    member_ids: list[uuid.UUID] | None = None
    external_id: str | None = Field(default=None, max_length=200)


class GroupRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    name: str
    description: str | None
    school_id: uuid.UUID | None
    member_ids: list[uuid.UUID]
    external_id: str | None
    created_at: datetime
    updated_at: datetime


RateLimit = Annotated[
    int,
    Field(
        ge=1,
        le=100_000,
        description="Requests a minute this client may make at the gateway (null: the default). "
        "Applies to tokens issued after the change.",
    ),
]


class ClientCreate(InputModel):
    """The client id is generated (``client-...``): callers never choose it, so it tells
    nothing about other trusts' clients."""

    name: str = Field(min_length=1, max_length=200)
    roles: list[ClientRole] = Field(min_length=1)
    scopes: list[Literal["metrics:read", "scim"]] = Field(default_factory=list)
    rate_limit_per_minute: RateLimit | None = None


class ClientUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    rate_limit_per_minute: RateLimit | None = None


class ClientRead(OutputModel):
    id: uuid.UUID
    trust_id: uuid.UUID
    client_id: str
    name: str
    roles: list[str]
    scopes: list[str]
    active: bool
    rate_limit_per_minute: int | None
    secret_rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the secret before the last rotation still works."
    )
    created_at: datetime


class ClientCreated(ClientRead):
    client_secret: str = Field(description="Shown once; store it safely.")


class ClientSecretRotated(ClientCreated):
    """The new secret (shown once). The previous one keeps working until
    ``previous_secret_expires_at``, so the client's deployments can be updated first."""


class SchoolRef(OutputModel):
    id: uuid.UUID
    name: str


class Colleague(OutputModel):
    """What the people picker shows of a person, and nothing more."""

    id: uuid.UUID
    display_name: str
    schools: list[SchoolRef]
