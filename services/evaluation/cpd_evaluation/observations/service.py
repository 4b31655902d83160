"""Observations of a measure: storing an upload (JSON batch or CSV) in one statement, and
listing what is held.

An upload is stored whole or not at all. A subject already holding a value at a phase is a
409 naming the rows, unless the upload asks to ``replace`` (a corrected re-upload): then its
values take the place of the held ones. A subject stays in one group (CPD or comparison)
across phases. The measure row is locked for the upload, so uploads to one measure queue
while other measures' run side by side.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import uuid7
from cpd_evaluation.models import Person
from cpd_evaluation.models.measures import Measure, Observation
from cpd_evaluation.observations.errors import InvalidUpload, ObservationsExist
from cpd_evaluation.observations.rows import Problems, Row, refuse_repeats
from cpd_evaluation.observations.schemas import PhaseRows, UploadRead

_SOURCE = (
    "unnest(CAST(:ids AS uuid[]), CAST(:keys AS varchar[]), CAST(:phases AS varchar[]), "
    "CAST(:values AS numeric[]), CAST(:dates AS date[]), CAST(:disadvantaged AS boolean[]), "
    "CAST(:send AS boolean[]), CAST(:year_groups AS varchar[]), CAST(:groups AS varchar[])) "
    "AS s(id, subject_key, phase, value, observed_on, disadvantaged, send, year_group, grp)"
)
_COLUMNS = (
    "id, trust_id, measure_id, subject_key, phase, value, observed_on, disadvantaged, send, "
    'year_group, "group"'
)
_SELECT = (
    "SELECT s.id, CAST(:trust AS uuid), CAST(:measure AS uuid), s.subject_key, s.phase, "
    "s.value, s.observed_on, s.disadvantaged, s.send, s.year_group, s.grp FROM " + _SOURCE
)
_INSERT = text(
    f"WITH ins AS (INSERT INTO observations ({_COLUMNS}) {_SELECT} "
    "ON CONFLICT (measure_id, subject_key, phase) DO NOTHING RETURNING 1) "
    "SELECT count(*) AS inserted, 0 AS replaced FROM ins"
)
_REPLACE = text(
    f"WITH ins AS (INSERT INTO observations ({_COLUMNS}) {_SELECT} "
    "ON CONFLICT (measure_id, subject_key, phase) DO UPDATE SET value = EXCLUDED.value, "
    "observed_on = EXCLUDED.observed_on, disadvantaged = EXCLUDED.disadvantaged, "
    'send = EXCLUDED.send, year_group = EXCLUDED.year_group, "group" = EXCLUDED."group" '
    # xmax is 0 on a freshly inserted row and set on one the conflict updated.
    "RETURNING (xmax = 0) AS fresh) "
    "SELECT count(*) FILTER (WHERE fresh) AS inserted, count(*) FILTER (WHERE NOT fresh) "
    "AS replaced FROM ins"
)
# Rows held before this upload that it collided with: every row it inserted has one of its ids.
_HELD = text(
    "SELECT o.subject_key, o.phase FROM observations o JOIN unnest(CAST(:keys AS varchar[]), "
    "CAST(:phases AS varchar[])) AS u(subject_key, phase) USING (subject_key, phase) "
    "WHERE o.measure_id = :measure AND NOT (o.id = ANY(CAST(:ids AS uuid[])))"
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
    problems.raise_if_any(what + "s")
    if not rows:
        raise InvalidUpload(
            "The upload holds no observations.", errors=[{"loc": "body", "msg": "no rows"}]
        )
    ids = [uuid7() for _ in rows]
    params: dict[str, Any] = {
        "trust": measure.trust_id,
        "measure": measure.id,
        "ids": ids,
        "keys": [r.subject_key for r in rows],
        "phases": [r.phase for r in rows],
        "values": [r.value for r in rows],
        "dates": [r.observed_on for r in rows],
        "disadvantaged": [r.disadvantaged for r in rows],
        "send": [r.send for r in rows],
        "year_groups": [r.year_group for r in rows],
        "groups": [r.group for r in rows],
    }
    result = (await session.execute(_REPLACE if replace else _INSERT, params)).one()
    inserted, replaced = int(result.inserted), int(result.replaced)
    if inserted + replaced < len(rows):
        held = {
            (k, p)
            for k, p in await session.execute(
                _HELD,
                {
                    "keys": params["keys"],
                    "phases": params["phases"],
                    "measure": measure.id,
                    "ids": ids,
                },
            )
        }
        for row in rows:
            if (row.subject_key, row.phase) in held:
                problems.add(row.line, "phase", "this subject already has a value at this phase")
        raise ObservationsExist(
            f"{len(problems.rows)} {what}s give a value for a subject and phase already held; "
            "nothing was stored. Send them again with replace=true to replace the held values.",
            errors=problems.items,
        )
    mixed = set((await session.scalars(_MIXED_GROUPS, {"measure": measure.id})).all())
    if mixed:
        for row in rows:
            if row.subject_key in mixed:
                problems.add(
                    row.line,
                    "group",
                    "the subject is in the other group at another phase; a subject stays in "
                    "one group (cpd or comparison)",
                )
        problems.raise_if_any(what + "s")
    phases = Counter(r.phase for r in rows)
    return UploadRead(
        measure_id=measure.id,
        rows=len(rows),
        inserted=inserted,
        replaced=replaced,
        phases=PhaseRows(**phases),
    )


def list_query(
    measure: Measure, *, phase: str | None = None, subject_key: str | None = None
) -> Select[Any]:
    stmt = select(Observation).where(Observation.measure_id == measure.id)
    if phase is not None:
        stmt = stmt.where(Observation.phase == phase)
    if subject_key is not None:
        stmt = stmt.where(Observation.subject_key == subject_key)
    return stmt


def can_read_rows(principal: Principal) -> bool:
    """Subject-level rows are for those who gather the data (leaders and trust admins);
    governors read measures and, through the plan's reports, aggregates only."""
    return principal.is_trust_admin or principal.has_any("school_leader")
