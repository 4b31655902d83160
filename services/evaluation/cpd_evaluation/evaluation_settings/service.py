"""The trust's evaluation settings: the hourly cost of staff time that value for money uses."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_evaluation.evaluation_settings.errors import SettingsTrustAdminsOnly
from cpd_evaluation.evaluation_settings.schemas import SettingsIn, SettingsRead
from cpd_evaluation.models.evidence import EvaluationSettings


async def hourly_staff_cost(session: AsyncSession, trust_id: uuid.UUID) -> Decimal | None:
    value = await session.scalar(
        select(EvaluationSettings.hourly_staff_cost).where(EvaluationSettings.trust_id == trust_id)
    )
    return None if value is None else Decimal(value)


async def get_settings(session: AsyncSession, *, principal: Principal) -> SettingsRead:
    row = await session.get(EvaluationSettings, principal.trust_id)
    return SettingsRead(
        trust_id=principal.trust_id,
        hourly_staff_cost=(
            float(row.hourly_staff_cost)
            if row is not None and row.hourly_staff_cost is not None
            else None
        ),
        updated_at=row.updated_at if row is not None else None,
    )


async def set_settings(
    session: AsyncSession, *, principal: Principal, data: SettingsIn
) -> SettingsRead:
    if not principal.is_trust_admin:
        raise SettingsTrustAdminsOnly("Only trust admins set the trust's evaluation settings.")
    stmt = insert(EvaluationSettings).values(
        trust_id=principal.trust_id,
        hourly_staff_cost=data.hourly_staff_cost,
        updated_by=principal.person_id,
        updated_at=utcnow(),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["trust_id"],
            set_={
                "hourly_staff_cost": stmt.excluded.hourly_staff_cost,
                "updated_by": stmt.excluded.updated_by,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )
    session.expire_all()
    return await get_settings(session, principal=principal)
