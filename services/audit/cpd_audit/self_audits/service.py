"""Private self-audits: a person answers an instrument for themself, to reflect (the audit
tool used alone). Only the author can read or delete one: anyone else, a leader or a trust
admin included, gets 404. They live in their own table and no query of audit results,
counts or metrics reads it, so they never enter an aggregate. Erasure deletes them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import access as audits_access
from cpd_audit.audits import schemas as audit_schemas
from cpd_audit.audits import service as audits_service
from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.instruments import service as instruments_service
from cpd_audit.instruments.errors import InstrumentNotFound, InstrumentVersionNotFound
from cpd_audit.models import Instrument, InstrumentVersion, SelfAudit
from cpd_audit.responses.service import validate_answers
from cpd_audit.self_audits import schemas
from cpd_audit.self_audits.errors import SelfAuditNotFound
from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.pagination import PageParams, paginate
from cpd_common.schemas import from_row


def _author(principal: Principal) -> uuid.UUID:
    audits_access.require_person_role(principal)
    if principal.person_id is None:
        raise Forbidden("Self-audits belong to people, not API clients.")
    return principal.person_id


def _mine(principal: Principal) -> ColumnElement[bool]:
    return and_(SelfAudit.trust_id == principal.trust_id, SelfAudit.person_id == _author(principal))


async def create(
    session: AsyncSession, data: schemas.SelfAuditCreate, *, principal: Principal
) -> SelfAudit:
    person_id = _author(principal)
    try:
        instrument = await instruments_service.get_instrument(
            session, data.instrument_id, principal=principal
        )
        version = await instruments_service.get_version(
            session, instrument, data.instrument_version or instrument.latest_version
        )
    except InstrumentNotFound:
        raise Unprocessable(
            "No such instrument.",
            errors=[{"loc": "body.instrument_id", "msg": "no such instrument"}],
        ) from None
    except InstrumentVersionNotFound:
        raise Unprocessable(
            "No such version.",
            errors=[{"loc": "body.instrument_version", "msg": "no such version"}],
        ) from None
    _, errors = validate_answers(instruments_service.parse_items(version.items), data.answers)
    if errors:
        raise Unprocessable(f"{len(errors)} answer(s) need attention.", errors=errors)
    self_audit = SelfAudit(
        trust_id=principal.trust_id,
        person_id=person_id,
        instrument_version_id=version.id,
        note=data.note,
        answers={
            key: answer.model_dump(exclude_defaults=True) for key, answer in data.answers.items()
        },
    )
    session.add(self_audit)
    await session.flush()
    return self_audit


async def get(
    session: AsyncSession, self_audit_id: uuid.UUID, *, principal: Principal
) -> SelfAudit:
    return await scalar_or_raise(
        session,
        select(SelfAudit).where(SelfAudit.id == self_audit_id, _mine(principal)),
        SelfAuditNotFound,
    )


async def list_mine(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[list[SelfAudit], str | None]:
    return await paginate(session, select(SelfAudit).where(_mine(principal)), SelfAudit.id, page)


async def delete_self_audit(session: AsyncSession, self_audit: SelfAudit) -> None:
    # Private: only the person reads their self-audit, so only they see its tombstone.
    await tombstones.delete(session, self_audit, visible_to=[self_audit.person_id])


async def read(session: AsyncSession, self_audit: SelfAudit) -> schemas.SelfAuditRead:
    instrument, version = (
        await session.execute(
            select(Instrument, InstrumentVersion)
            .join(InstrumentVersion, InstrumentVersion.instrument_id == Instrument.id)
            .where(InstrumentVersion.id == self_audit.instrument_version_id)
        )
    ).one()
    items = []
    for item in instruments_service.parse_items(version.items):
        answer = self_audit.answers.get(item.key)
        gap = None
        if isinstance(item, instrument_schemas.PairedScaleItem) and answer:
            gap = int(answer["values"]) - int(answer["practice"])
        items.append(
            from_row(schemas.SelfAuditItem, item, item_key=item.key, answer=answer, gap=gap)
        )
    ranked = sorted(
        (i for i in items if i.gap is not None), key=lambda i: (-(i.gap or 0), i.item_key)
    )
    return from_row(
        schemas.SelfAuditRead,
        self_audit,
        instrument=audit_schemas.InstrumentRef(
            id=instrument.id,
            key=instrument.key,
            title=version.title,
            version=version.version,
            version_id=version.id,
            paired=audits_service.is_paired(version),
        ),
        items=items,
        ranked_by_gap=[i.item_key for i in ranked],
    )


async def erase(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Right to erasure: the person's self-audits go."""
    await tombstones.delete_where(
        session, SelfAudit, SelfAudit.person_id == person_id, readers=[SelfAudit.person_id]
    )
