"""The QA metrics release log: one row per pull of ``/v1/metrics`` by an API client, saying
who pulled (the client id), when, for which academic year and in which form, which version of
each metric definition applied, how many cells were released and which were withheld (and
why). The trust admin reads it at ``/v1/metrics/releases``; it holds no figures about people,
only the shape of what left the platform.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import Uuid

from cpd_common.db import IdMixin, TenantMixin
from cpd_evaluation.models import Base, _one_of


class MetricRelease(IdMixin, TenantMixin, Base):
    """A pull of the QA metrics. ``withheld`` lists each withheld cell as ``{"area":
    "trust" | <school id>, "metric", "principle", "symbol", "rule"}``; ``definitions`` maps
    each metric id to the version released."""

    __tablename__ = "metric_releases"
    # Append-only: incremental sync of the release log reads the release time.
    __sync_column__ = "released_at"
    __table_args__ = (
        CheckConstraint(_one_of("format", ("json", "csv")), name="format"),
        CheckConstraint("cells_released >= 0", name="cells_released"),
        Index("ix_metric_releases_trust_id_id", "trust_id", "id"),
    )

    client_id: Mapped[str] = mapped_column(String(100))
    released_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    academic_year: Mapped[str] = mapped_column(String(7))
    school_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    format: Mapped[str] = mapped_column(String(4))
    definitions: Mapped[dict[str, int]] = mapped_column(JSONB)
    cells_released: Mapped[int] = mapped_column(Integer)
    withheld: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
