"""Organisational support (evaluation level 3): what the school gave the CPD a plan evaluates:
time, resources, and the barriers met, as leaders record them. Read and written by those who
change the plan (leaders of its schools and trust admins); governors read it in the report."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, utcnow
from cpd_common.schemas import from_row
from cpd_evaluation.models.evidence import SupportRecord
from cpd_evaluation.models.plans import EvaluationPlan
from cpd_evaluation.support.errors import InvalidSupport, SupportNotFound
from cpd_evaluation.support.schemas import FIELDS, SupportCreate, SupportRead, SupportUpdate


def list_query(plan: EvaluationPlan) -> Select[Any]:
    return select(SupportRecord).where(SupportRecord.plan_id == plan.id)


async def get_record(
    session: AsyncSession, plan: EvaluationPlan, record_id: uuid.UUID, *, write: bool = False
) -> SupportRecord:
    stmt = list_query(plan).where(SupportRecord.id == record_id)
    if write:
        stmt = stmt.with_for_update()
    return await scalar_or_raise(session, stmt, SupportNotFound)


async def create_record(
    session: AsyncSession, plan: EvaluationPlan, *, principal: Principal, data: SupportCreate
) -> SupportRecord:
    record = SupportRecord(
        plan_id=plan.id,
        trust_id=plan.trust_id,
        recorded_on=data.recorded_on or utcnow().date(),
        hours_given=data.hours_given,
        resources=data.resources,
        barriers=data.barriers,
        notes=data.notes,
        recorded_by=principal.person_id,
    )
    session.add(record)
    await session.flush()
    return record


async def update_record(
    session: AsyncSession, record: SupportRecord, *, data: SupportUpdate
) -> SupportRecord:
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(record, name, value)
    if all(getattr(record, name) is None for name in FIELDS):
        raise InvalidSupport(
            "A support record says something: keep at least one of hours_given, resources, "
            "barriers and notes.",
            errors=[{"loc": "body", "msg": "all four would be empty"}],
        )
    record.updated_at = utcnow()
    await session.flush()
    return record


async def delete_record(session: AsyncSession, record: SupportRecord) -> None:
    await tombstones.delete(session, record, parent_id=record.plan_id)


def support_read(record: SupportRecord) -> SupportRead:
    return from_row(
        SupportRead,
        record,
        evaluation_id=record.plan_id,
        hours_given=float(record.hours_given) if record.hours_given is not None else None,
    )
