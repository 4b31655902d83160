"""Observations of a measure: storing an upload (JSON batch or CSV) with one ``COPY`` in the
request's transaction, and listing what is held.

An upload is stored whole or not at all. A subject already holding a value at a phase is a
409 naming the rows, unless the upload asks to ``replace`` (a corrected re-upload): then the
held values are deleted and the upload's stored in their place (with new ids). A subject stays in one group (CPD or comparison)
across phases. The measure row is locked for the upload, so uploads to one measure queue
while other measures' run side by side.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import asyncpg
import uuid_utils
from sqlalchemy import Select, exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import utcnow, where_given
from cpd_evaluation.models import Person
from cpd_evaluation.models.measures import Measure, Observation
from cpd_evaluation.observations.errors import InvalidUpload, ObservationsExist
from cpd_evaluation.observations.rows import Problems, Row, refuse_repeats
from cpd_evaluation.observations.schemas import PhaseRows, UploadRead

# The columns an upload COPYs, in the order of its records (the upload bench uses them too).
COPY_COLUMNS = [
    "id",
    "trust_id",
    "measure_id",
    "subject_key",
    "phase",
    "value",
    "observed_on",
    "disadvantaged",
    "send",
    "year_group",
    "group",
]
_PAIRS = "unnest(CAST(:keys AS varchar[]), CAST(:phases AS varchar[])) AS u(subject_key, phase)"
# The held values this upload gives again (a 409, or replaced with replace=true).
_HELD = text(
    f"SELECT o.subject_key, o.phase FROM observations o JOIN {_PAIRS} "
    "USING (subject_key, phase) WHERE o.measure_id = :measure"
)
# Replaced values leave tombstones (incremental sync of the measure's observations).
_DELETE_HELD = text(
    f"WITH gone AS (DELETE FROM observations o USING {_PAIRS} WHERE o.measure_id = :measure "
    "AND o.subject_key = u.subject_key AND o.phase = u.phase "
    "RETURNING o.id, o.trust_id, o.measure_id), "
    "marked AS (INSERT INTO tombstones (resource, id, trust_id, deleted_at, parent_id) "
    "SELECT 'observations', id, trust_id, now(), measure_id FROM gone "
    "ON CONFLICT (resource, id) DO UPDATE SET deleted_at = excluded.deleted_at RETURNING 1) "
    "SELECT count(*) FROM gone"
)
_MIXED_GROUPS = text(
    "SELECT subject_key FROM observations WHERE measure_id = :measure "
    'GROUP BY subject_key HAVING count(DISTINCT "group") > 1 LIMIT 1000'
)


async def _check_staff(
    session: AsyncSession, measure: Measure, rows: list[Row], problems: Problems
) -> None:
    """Every member of staff is a person of the trust (known from the directory)."""
    ids = {uuid.UUID(r.subject_key) for r in rows}
    known = set(
        (
            await session.scalars(
                select(Person.id).where(Person.trust_id == measure.trust_id, Person.id.in_(ids))
            )
        ).all()
    )
    for row in rows:
        if uuid.UUID(row.subject_key) not in known:
            problems.add(row.line, "person_id", "not a person of your trust")


async def store(
    session: AsyncSession,
    measure: Measure,
    rows: list[Row],
    *,
    problems: Problems,
    replace: bool,
    what: str,
) -> UploadRead:
    """Stores the rows read from one upload (``problems`` may already hold the reader's).
    ``measure`` was fetched for writing (locked) by the caller."""
    if measure.subjects == "staff" and rows:
        await _check_staff(session, measure, rows, problems)
    refuse_repeats(rows, problems, what=what)
    # A subject stays in one group across phases: within this upload, and with what is held.
    _refuse_mixed_groups(rows, _mixed_in_upload(rows), problems)
    problems.raise_if_any(what + "s")
    if not rows:
        raise InvalidUpload(
            "The upload holds no observations.", errors=[{"loc": "body", "msg": "no rows"}]
        )
    held_before = await session.scalar(select(exists().where(Observation.measure_id == measure.id)))
    replaced = 0
    if held_before:
        pairs = {"keys": [r.subject_key for r in rows], "phases": [r.phase for r in rows]}
        if replace:
            replaced = int(
                await session.scalar(_DELETE_HELD, {**pairs, "measure": measure.id}) or 0
            )
        else:
            await _refuse_held(session, measure, rows, pairs, problems, what)
    await _copy(session, measure, rows)
    if held_before:
        mixed = set((await session.scalars(_MIXED_GROUPS, {"measure": measure.id})).all())
        _refuse_mixed_groups(rows, mixed, problems)
        problems.raise_if_any(what + "s")
    phases = Counter(r.phase for r in rows)
    return UploadRead(
        measure_id=measure.id,
        rows=len(rows),
        inserted=len(rows) - replaced,
        replaced=replaced,
        phases=PhaseRows(**phases),
    )


async def _refuse_held(
    session: AsyncSession,
    measure: Measure,
    rows: list[Row],
    pairs: dict[str, list[str]],
    problems: Problems,
    what: str,
) -> None:
    held = {(k, p) for k, p in await session.execute(_HELD, {**pairs, "measure": measure.id})}
    if not held:
        return
    for row in rows:
        if (row.subject_key, row.phase) in held:
            problems.add(row.line, "phase", "this subject already has a value at this phase")
    raise ObservationsExist(
        f"{len(problems.rows)} {what}s give a value for a subject and phase already held; "
        "nothing was stored. Send them again with replace=true to replace the held values.",
        errors=problems.items,
    )


async def _copy(session: AsyncSession, measure: Measure, rows: list[Row]) -> None:
    """``COPY`` of every row, in the request's transaction: the fastest way PostgreSQL takes
    many rows (bench/observations_upload.py times it). The measure is locked and held pairs were
    dealt with, so the unique constraint can only fire on a bug or a race it then stops."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    trust, measure_id = measure.trust_id, measure.id
    records = [
        (
            # uuid_utils' own UUIDv7 objects: asyncpg encodes anything with ``bytes``, and
            # making 50,000 stdlib UUIDs from them costs more than the COPY itself.
            uuid_utils.uuid7(),
            trust,
            measure_id,
            r.subject_key,
            r.phase,
            r.value,
            r.observed_on,
            r.disadvantaged,
            r.send,
            r.year_group,
            r.group,
        )
        for r in rows
    ]
    try:
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table("observations", records=records, columns=COPY_COLUMNS)
    except asyncpg.UniqueViolationError:
        raise ObservationsExist(
            "Another upload stored values for these subjects just now; nothing was stored. "
            "Read the observations and retry."
        ) from None


def _mixed_in_upload(rows: list[Row]) -> set[str]:
    groups: dict[str, str] = {}
    mixed: set[str] = set()
    for row in rows:
        if groups.setdefault(row.subject_key, row.group) != row.group:
            mixed.add(row.subject_key)
    return mixed


def _refuse_mixed_groups(rows: list[Row], mixed: set[str], problems: Problems) -> None:
    if not mixed:
        return
    for row in rows:
        if row.subject_key in mixed:
            problems.add(
                row.line,
                "group",
                "the subject is in the other group at another phase; a subject stays in one "
                "group (cpd or comparison)",
            )


async def delete_phase(session: AsyncSession, measure: Measure, *, phase: str) -> None:
    """``measure`` was fetched for writing (locked) by the caller."""
    await tombstones.delete_where(
        session,
        Observation,
        Observation.measure_id == measure.id,
        Observation.phase == phase,
        parent=Observation.measure_id,
    )
    measure.updated_at = utcnow()
    await session.flush()


def list_query(
    measure: Measure, *, phase: str | None = None, subject_key: str | None = None
) -> Select[Any]:
    stmt = select(Observation).where(Observation.measure_id == measure.id)
    stmt = where_given(stmt, (Observation.phase, phase), (Observation.subject_key, subject_key))
    return stmt


def can_read_rows(principal: Principal) -> bool:
    """Subject-level rows are for those who gather the data (leaders and trust admins);
    governors read measures and, through the plan's reports, aggregates only."""
    return principal.is_trust_admin or principal.has_any("school_leader")
