"""The trust's annual CPD entitlement (a trust setting) and each person's pro-rated target.

A person's target for an academic year is the annual entitlement x their FTE (1.0 when the
directory does not say) x the share of the year's days from their start date (or the 1st of
September, whichever is later) to the 31st of August. :func:`target_sql` computes it in SQL,
so CPD records and dashboards agree.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Numeric, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import save_trust_settings
from cpd_evaluation.entitlement.errors import TrustAdminsOnly
from cpd_evaluation.entitlement.schemas import EntitlementIn, EntitlementRead
from cpd_evaluation.models import Person, TrustSettings
from cpd_evaluation.terms import DEFAULT_ENTITLEMENT_HOURS


async def annual_hours(session: AsyncSession, trust_id: uuid.UUID) -> Decimal:
    value = await session.scalar(
        select(TrustSettings.annual_entitlement_hours).where(TrustSettings.trust_id == trust_id)
    )
    return Decimal(str(DEFAULT_ENTITLEMENT_HOURS)) if value is None else Decimal(value)


async def get_entitlement(session: AsyncSession, *, principal: Principal) -> EntitlementRead:
    row = await session.get(TrustSettings, principal.trust_id)
    if row is None:
        return EntitlementRead(
            trust_id=principal.trust_id,
            annual_hours=DEFAULT_ENTITLEMENT_HOURS,
            is_default=True,
            updated_at=None,
        )
    return EntitlementRead(
        trust_id=row.trust_id,
        annual_hours=float(row.annual_entitlement_hours),
        is_default=False,
        updated_at=row.updated_at,
    )


async def set_entitlement(
    session: AsyncSession, *, principal: Principal, data: EntitlementIn
) -> EntitlementRead:
    if not principal.is_trust_admin:
        raise TrustAdminsOnly("Only trust admins set the trust's CPD entitlement.")
    await save_trust_settings(
        session,
        TrustSettings,
        trust_id=principal.trust_id,
        by=principal.person_id,
        annual_entitlement_hours=data.annual_hours,
    )
    return await get_entitlement(session, principal=principal)


def employed_from_sql(year_start: date) -> ColumnElement[date]:
    return func.greatest(
        func.coalesce(Person.start_date, literal(year_start, Date)), literal(year_start, Date)
    )


def employed_share_sql(year_start: date, year_end: date) -> ColumnElement[Any]:
    """The share of the academic year's days the person is employed (0 to 1)."""
    days_in_year = (year_end - year_start).days + 1
    days = literal(year_end, Date) - employed_from_sql(year_start) + 1
    return cast(func.greatest(days, 0), Numeric) / days_in_year


def target_sql(annual: Decimal, year_start: date, year_end: date) -> ColumnElement[Any]:
    """Each person's pro-rated target in hours (2 places)."""
    fte = cast(func.coalesce(Person.fte, 1.0), Numeric)
    return func.round(literal(annual, Numeric) * fte * employed_share_sql(year_start, year_end), 2)
