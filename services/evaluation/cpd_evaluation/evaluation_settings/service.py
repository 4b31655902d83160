"""The trust's evaluation settings: the hourly cost of staff time that value for money uses."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import save_trust_settings
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
    await save_trust_settings(
        session,
        EvaluationSettings,
        trust_id=principal.trust_id,
        by=principal.person_id,
        hourly_staff_cost=data.hourly_staff_cost,
    )
    return await get_settings(session, principal=principal)
