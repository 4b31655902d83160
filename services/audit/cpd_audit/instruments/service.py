"""Instruments: the built-ins (shipped as data by data migrations, read-only here) and each trust's custom instruments, with
versions that freeze once an audit uses them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.instruments import schemas
from cpd_audit.instruments.errors import (
    BuiltinInstrumentReadOnly,
    InstrumentKeyTaken,
    InstrumentNotFound,
    InstrumentVersionNotFound,
)
from cpd_audit.models import Audit, Instrument, InstrumentVersion
from cpd_common.auth import PERSON_ROLES, Principal, Role
from cpd_common.db import one_of_a_kind, scalar_or_raise, utcnow
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.pagination import PageParams, paginate
from cpd_common.schemas import from_row

EDITOR_ROLES: tuple[Role, ...] = ("trust_admin", "school_leader")

_items_adapter: TypeAdapter[list[schemas.Item]] = TypeAdapter(list[schemas.Item])


def dump_items(items: Sequence[schemas.Item]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in items]


def parse_items(raw: list[dict[str, Any]]) -> list[schemas.Item]:
    return _items_adapter.validate_python(raw)


def require_reader(principal: Principal) -> None:
    if not principal.has_any(*PERSON_ROLES):
        raise Forbidden("Your role does not allow reading instruments.")


def require_editor(principal: Principal) -> None:
    if not principal.has_any(*EDITOR_ROLES):
        raise Forbidden("Only trust admins and school leaders create or change instruments.")


def visible(principal: Principal) -> Any:
    return or_(Instrument.trust_id.is_(None), Instrument.trust_id == principal.trust_id)


async def list_instruments(
    session: AsyncSession, *, principal: Principal, page: PageParams, kind: str | None = None
) -> tuple[list[tuple[Instrument, InstrumentVersion]], str | None]:
    require_reader(principal)
    stmt = select(Instrument).where(visible(principal))
    if kind == "builtin":
        stmt = stmt.where(Instrument.trust_id.is_(None))
    elif kind == "custom":
        stmt = stmt.where(Instrument.trust_id == principal.trust_id)
    instruments, next_cursor = await paginate(session, stmt, Instrument.id, page)
    latest = await latest_versions(session, instruments)
    return [(i, latest[i.id]) for i in instruments], next_cursor


async def latest_versions(
    session: AsyncSession, instruments: Sequence[Instrument]
) -> dict[uuid.UUID, InstrumentVersion]:
    if not instruments:
        return {}
    pairs = [(i.id, i.latest_version) for i in instruments]
    rows = await session.scalars(
        select(InstrumentVersion).where(
            or_(
                *(
                    (InstrumentVersion.instrument_id == iid) & (InstrumentVersion.version == v)
                    for iid, v in pairs
                )
            )
        )
    )
    return {v.instrument_id: v for v in rows}


async def get_instrument(
    session: AsyncSession, instrument_id: uuid.UUID, *, principal: Principal
) -> Instrument:
    require_reader(principal)
    return await scalar_or_raise(
        session,
        select(Instrument).where(Instrument.id == instrument_id, visible(principal)),
        InstrumentNotFound,
    )


async def versions_of(
    session: AsyncSession, instrument: Instrument
) -> list[tuple[InstrumentVersion, bool]]:
    in_use = exists().where(Audit.instrument_version_id == InstrumentVersion.id)
    rows = await session.execute(
        select(InstrumentVersion, in_use.label("in_use"))
        .where(InstrumentVersion.instrument_id == instrument.id)
        .order_by(InstrumentVersion.version)
    )
    return [(v, bool(u)) for v, u in rows.all()]


async def get_version(
    session: AsyncSession, instrument: Instrument, version: int
) -> InstrumentVersion:
    return await scalar_or_raise(
        session,
        select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument.id,
            InstrumentVersion.version == version,
        ),
        InstrumentVersionNotFound,
    )


async def version_in_use(session: AsyncSession, version_id: uuid.UUID) -> bool:
    used = await session.scalar(
        select(func.count()).select_from(Audit).where(Audit.instrument_version_id == version_id)
    )
    return bool(used)


def to_version_read(version: InstrumentVersion, *, in_use: bool) -> schemas.InstrumentVersionRead:
    return from_row(
        schemas.InstrumentVersionRead,
        version,
        sections=[schemas.Section.model_validate(s) for s in version.sections],
        items=parse_items(version.items),
        in_use=in_use,
    )


async def read_instrument(session: AsyncSession, instrument: Instrument) -> schemas.InstrumentRead:
    versions = await versions_of(session, instrument)
    current, current_in_use = next(
        (v, u) for v, u in versions if v.version == instrument.latest_version
    )
    current_read = to_version_read(current, in_use=current_in_use)
    return from_row(
        schemas.InstrumentRead,
        instrument,
        kind="builtin" if instrument.trust_id is None else "custom",
        item_count=len(current_read.items),
        current=current_read,
        versions=[from_row(schemas.VersionSummary, v, in_use=u) for v, u in versions],
    )


def to_summary(instrument: Instrument, version: InstrumentVersion) -> schemas.InstrumentSummary:
    return from_row(
        schemas.InstrumentSummary,
        instrument,
        kind="builtin" if instrument.trust_id is None else "custom",
        latest_version_id=version.id,
        item_count=len(version.items),
        item_types=sorted({i["type"] for i in version.items}),
    )


async def create_instrument(
    session: AsyncSession, data: schemas.InstrumentCreate, *, principal: Principal
) -> Instrument:
    require_editor(principal)
    key = data.key or f"custom-{uuid.uuid4().hex[:10]}"
    taken = await session.scalar(
        select(Instrument.id).where(
            Instrument.key == key,
            or_(Instrument.trust_id == principal.trust_id, Instrument.trust_id.is_(None)),
        )
    )
    if taken is not None:
        raise InstrumentKeyTaken(f"An instrument with key {key!r} already exists.")
    instrument = Instrument(
        trust_id=principal.trust_id,
        key=key,
        title=data.title,
        description=data.description,
        framework=data.framework,
        latest_version=1,
        created_by=principal.person_id,
    )
    # (trust_id, key) is unique: a concurrent create with the same key gets the same 409.
    async with one_of_a_kind(
        session, InstrumentKeyTaken(f"An instrument with key {key!r} already exists.")
    ):
        session.add(instrument)
        await session.flush()
    session.add(
        InstrumentVersion(
            instrument_id=instrument.id,
            trust_id=principal.trust_id,
            version=1,
            title=data.title,
            description=data.description,
            sections=[s.model_dump(mode="json") for s in data.sections],
            items=dump_items(data.items),
        )
    )
    await session.flush()
    return instrument


async def update_instrument(
    session: AsyncSession,
    instrument: Instrument,
    data: schemas.InstrumentUpdate,
    *,
    principal: Principal,
) -> Instrument:
    """Edits the latest version in place while no audit uses it; otherwise adds the next
    version (the used one stays exactly as its respondents saw it)."""
    require_editor(principal)
    if instrument.trust_id is None:
        raise BuiltinInstrumentReadOnly(
            "Built-in instruments are the same for every trust; create a custom instrument."
        )
    changes = data.model_dump(exclude_unset=True)
    current = await get_version(session, instrument, instrument.latest_version)
    sections = (
        [s.model_dump(mode="json") for s in data.sections]
        if data.sections is not None
        else current.sections
    )
    items = dump_items(data.items) if data.items is not None else current.items
    try:
        schemas.check_content(
            [schemas.Section.model_validate(s) for s in sections], parse_items(items)
        )
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[{"loc": "body", "msg": str(exc)}]) from exc
    if changes.get("title") is not None:
        instrument.title = changes["title"]
    if "description" in changes:
        instrument.description = changes["description"] or ""
    if "framework" in changes:
        instrument.framework = changes["framework"]
    content_changed = (
        sections != current.sections
        or items != current.items
        or instrument.title != current.title
        or instrument.description != current.description
    )
    if content_changed:
        if await version_in_use(session, current.id):
            instrument.latest_version = current.version + 1
            session.add(
                InstrumentVersion(
                    instrument_id=instrument.id,
                    trust_id=instrument.trust_id,
                    version=instrument.latest_version,
                    title=instrument.title,
                    description=instrument.description,
                    sections=sections,
                    items=items,
                )
            )
        else:
            current.title = instrument.title
            current.description = instrument.description
            current.sections = sections
            current.items = items
    instrument.updated_at = utcnow()
    await session.flush()
    return instrument
