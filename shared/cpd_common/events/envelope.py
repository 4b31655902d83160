"""The CloudEvents 1.0 envelope every event travels in (structured JSON mode)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cpd_common.db import utcnow, uuid7

SPEC_VERSION = "1.0"


class CloudEvent(BaseModel):
    """``type`` is ``cpd.<service>.<entity>.<event>.v1`` (an :class:`~cpd_common.events.catalogue.Event`'s
    ``event_type``); ``trustid`` is our extension attribute."""

    model_config = ConfigDict(extra="allow")

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=lambda: str(uuid7()))
    source: str
    type: str
    subject: str | None = None
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    trustid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def trust_id(self) -> uuid.UUID | None:
        return uuid.UUID(self.trustid) if self.trustid else None
