"""Anonymised QA metrics for external quality-assurance bodies, and the log of what left.

Only API clients with the ``qa_reader`` role read the metrics and their definitions, and only
for the trust their client belongs to (a trust admin creates the client). Every pull computes
the whole table (the trust and every school), applies disclosure control to all of it, writes
a release log entry (client, time, year, form, definition versions, cells released and each
withheld cell) and only then answers. Trust admins read the log.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow, uuid7
from cpd_common.pagination import PageParams, paginate
from cpd_evaluation.metrics import queries
from cpd_evaluation.metrics.definitions import definitions, versions
from cpd_evaluation.metrics.disclosure import Cell, disclose, figure
from cpd_evaluation.metrics.errors import QaReadersOnly, SchoolNotFound, TrustAdminsOnly
from cpd_evaluation.metrics.schemas import (
    Area,
    Definitions,
    MetricsRelease,
    ReleasePage,
    ReleaseRead,
    WithheldCell,
)
from cpd_evaluation.models import School
from cpd_evaluation.models.metrics import MetricRelease
from cpd_evaluation.records.years import AcademicYear

SCOPE = "metrics:read"


def require_qa_reader(principal: Principal) -> None:
    """An API client with the ``qa_reader`` role; a token narrowed to other scopes is not
    enough (403 for everyone else: people of any role, other clients)."""
    if principal.client_id is None or not principal.has_any("qa_reader"):
        raise QaReadersOnly(
            "Anonymised QA metrics are released only to API clients with the qa_reader role, "
            "created by a trust admin for the trust."
        )
    scopes = principal.scopes - {""}
    if scopes and SCOPE not in scopes:
        raise QaReadersOnly(f"This token's scope does not include {SCOPE}.")


def get_definitions(principal: Principal) -> Definitions:
    require_qa_reader(principal)
    return definitions()


def _withheld(cell: Cell) -> WithheldCell:
    assert cell.symbol is not None and cell.rule is not None
    return WithheldCell(
        area="trust" if cell.area is None else str(cell.area),
        metric=cell.metric.id,
        principle=cell.principle,
        symbol=cell.symbol,
        rule=cell.rule,
    )


async def pull(
    session: AsyncSession,
    *,
    principal: Principal,
    year: AcademicYear,
    school_id: uuid.UUID | None,
    form: Literal["json", "csv"],
) -> MetricsRelease:
    """The trust's figures for ``year`` (only ``school_id``'s besides the trust total when
    given; 404 for a school of another trust), logged as a release."""
    require_qa_reader(principal)
    trust_id = principal.trust_id
    schools = (
        await session.execute(
            select(School.id, School.name)
            .where(School.trust_id == trust_id)
            .order_by(School.name, School.id)
        )
    ).all()
    if school_id is not None and school_id not in {s.id for s in schools}:
        raise SchoolNotFound()
    school_ids = [s.id for s in schools]
    # Suppression is decided over the whole table, whatever part of it is asked for.
    cells = disclose(
        await queries.cells(session, trust_id, year, school_ids), definitions(), school_ids
    )
    shown = [c for c in cells if school_id is None or c.area in (None, school_id)]
    release = MetricRelease(
        id=uuid7(),
        trust_id=trust_id,
        client_id=principal.client_id,
        released_at=utcnow(),
        academic_year=year.name,
        school_id=school_id,
        format=form,
        definitions=versions(),
        cells_released=sum(1 for c in shown if c.symbol is None),
        withheld=[_withheld(c).model_dump(mode="json") for c in shown if c.symbol is not None],
    )
    session.add(release)
    # The log entry is written before anything is answered: no figures leave unlogged.
    await session.flush()

    def area(school: uuid.UUID | None, name: str | None) -> Area:
        return Area(
            area="trust" if school is None else "school",
            school_id=school,
            school_name=name,
            figures=[figure(c) for c in shown if c.area == school],
        )

    defs = definitions()
    return MetricsRelease(
        release_id=release.id,
        trust_id=trust_id,
        academic_year=year.name,
        period_start=year.start,
        period_end=year.end,
        released_at=release.released_at,
        min_people=defs.min_people,
        rounding_base=defs.rounding_base,
        symbols=defs.symbols,
        trust=area(None, None),
        schools=[area(s.id, s.name) for s in schools if school_id in (None, s.id)],
    )


async def list_releases(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> ReleasePage:
    """The trust's release log, oldest first (cursor paging by id)."""
    if not principal.is_trust_admin:
        raise TrustAdminsOnly("Trust admins read the log of QA metrics released for the trust.")
    rows, next_cursor = await paginate(
        session,
        select(MetricRelease).where(MetricRelease.trust_id == principal.trust_id),
        MetricRelease.id,
        page,
    )
    return ReleasePage(items=[ReleaseRead.model_validate(r) for r in rows], next_cursor=next_cursor)
