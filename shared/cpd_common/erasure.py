"""Right to erasure in free text: every service replaces an erased person's name wherever
people wrote it (notes, titles, plans, comments, stored replays of responses).

The name is matched whole and case-insensitively at word boundaries (PostgreSQL regular
expressions, ``\\m`` and ``\\M``), so "Sam Patel" and "SAM PATEL" go but "Samuel" stays.
JSON columns are scrubbed in their text form. Each service lists its free-text columns and
the clause that keeps the update inside the person's trust.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

FORMER_MEMBER = "a former member"


def name_pattern(name: str) -> str:
    """A PostgreSQL ARE that matches the whole name; everything in it is taken literally."""
    return r"\m" + re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name.strip()) + r"\M"


@dataclass(frozen=True)
class FreeText:
    """A column people write in. ``where`` is SQL keeping the update to the right rows; it
    may use ``:trust`` (the person's trust id) and ``:person`` (their id)."""

    table: str
    column: str
    where: str = "trust_id = :trust"
    json: bool = False


async def scrub_name(
    session: AsyncSession,
    *,
    name: str | None,
    person_id: uuid.UUID,
    trust_id: uuid.UUID,
    columns: Iterable[FreeText],
    replacement: str = FORMER_MEMBER,
) -> None:
    """Replaces the person's name in every listed column (one UPDATE per column, only on
    rows that contain it) and in the stored replays of idempotent requests."""
    if not name or not name.strip():
        return
    params: dict[str, Any] = {
        "pattern": name_pattern(name),
        "replacement": replacement,
        "trust": trust_id,
        "person": person_id,
    }
    for col in columns:
        as_text = f"{col.column}::text" if col.json else col.column
        replaced = f"regexp_replace({as_text}, :pattern, :replacement, 'gi')"
        if col.json:
            replaced = f"({replaced})::jsonb"
        await session.execute(
            text(
                f"UPDATE {col.table} SET {col.column} = {replaced} "
                f"WHERE ({col.where}) AND {as_text} ~* :pattern"
            ),
            params,
        )
    # A replay of a create (kept for a day for Idempotency-Key) would hand the name back.
    await session.execute(
        text(
            "UPDATE idempotency_keys SET body = convert_to(regexp_replace("
            "convert_from(body, 'UTF8'), :pattern, :replacement, 'gi'), 'UTF8') "
            "WHERE position(convert_to(:name, 'UTF8') IN body) > 0"
        ),
        {**params, "name": name.strip()},
    )
