"""Bodies of the session endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from cpd_common.schemas import OutputModel


class SessionRead(OutputModel):
    id: uuid.UUID
    client_id: str
    method: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool = False
