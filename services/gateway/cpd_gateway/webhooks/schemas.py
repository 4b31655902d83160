"""Bodies of the webhook endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from cpd_common.schemas import InputModel, OutputModel


class WebhookCreate(InputModel):
    url: str = Field(min_length=8, max_length=2000, description="https:// URL to post to")
    event_types: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Event types of the catalogue (`cpd.audit.audit.closed.v1`), or patterns "
        "with `*` (`cpd.audit.*`, `*`)",
    )
    description: str | None = Field(default=None, max_length=500)


class WebhookUpdate(InputModel):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    status: Literal["active", "paused"] | None = None


class WebhookRead(OutputModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    status: str
    owner_client_id: str | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(description="Signing secret (`whsec_` + base64), shown only here")


class AttemptRead(OutputModel):
    attempted_at: datetime
    outcome: str
    status_code: int | None
    latency_ms: int
    error: str | None


class DeliveryRead(OutputModel):
    id: uuid.UUID
    event_id: str
    event_type: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    finished_at: datetime | None
    tries: list[AttemptRead] = []
