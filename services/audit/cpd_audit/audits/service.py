"""Audits (rounds of an instrument): reading them, creating and changing drafts, deleting a
draft, and the item keys the needs register links to. Who may do what is in
:mod:`cpd_audit.audits.access`, opening and closing in :mod:`cpd_audit.audits.lifecycle`,
response counts (never who responded) in :mod:`cpd_audit.audits.counts`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, false, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import access, audience, schemas
from cpd_audit.audits.errors import AuditNotDraft, AuditNotFound, NotAuditManager
from cpd_audit.instruments import service as instruments_service
from cpd_audit.instruments.errors import InstrumentNotFound, InstrumentVersionNotFound
from cpd_audit.models import (
    Audit,
    Instrument,
    InstrumentVersion,
    NeedAuditItem,
    School,
    Tombstone,
)
from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import known_ids, scalar_or_raise, utcnow, where_given
from cpd_common.errors import Forbidden, Unprocessable
from cpd_common.pagination import ID_ORDER, PageParams, SortKey, paginate, sort_param, text_search
from cpd_common.schemas import from_row

# ---- reading ---------------------------------------------------------------------------------


async def get_audit(session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal) -> Audit:
    access.require_person_role(principal)
    return await scalar_or_raise(
        session, select(Audit).where(Audit.id == audit_id, access.visible(principal)), AuditNotFound
    )


# ``?sort=`` of ``GET /v1/audits``.
SORTS = sort_param(
    {
        "title": func.lower(Audit.title),
        "created_at": Audit.created_at,
        "opens_on": Audit.opens_on,
        "closes_on": Audit.closes_on,
    }
)


async def list_audits(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    sort: SortKey = ID_ORDER,
    q: str | None = None,
    status: str | None = None,
    school_id: uuid.UUID | None = None,
    instrument_id: uuid.UUID | None = None,
    awaiting_me: bool | None = None,
) -> tuple[list[Audit], str | None]:
    access.require_person_role(principal)
    stmt = select(Audit).where(access.visible(principal))
    search = text_search(q, Audit.title, Audit.description)
    if search is not None:
        stmt = stmt.where(search)
    if awaiting_me is not None:
        # Open, in my frozen audience, not answered by me: only ever about the caller.
        mine = audience.awaiting(principal.person_id) if principal.person_id else false()
        stmt = stmt.where(mine if awaiting_me else not_(mine))
    stmt = where_given(stmt, (Audit.status, status))
    if school_id is not None:
        stmt = stmt.where(or_(Audit.scope_kind == "trust", Audit.school_ids.contains([school_id])))
    if instrument_id is not None:
        stmt = stmt.where(
            Audit.instrument_version_id.in_(
                select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == instrument_id)
            )
        )
    return await paginate(session, stmt, Audit.id, page, sort=sort)


async def instrument_of(
    session: AsyncSession, audit: Audit
) -> tuple[Instrument, InstrumentVersion]:
    row = (
        await session.execute(
            select(Instrument, InstrumentVersion)
            .join(InstrumentVersion, InstrumentVersion.instrument_id == Instrument.id)
            .where(InstrumentVersion.id == audit.instrument_version_id)
        )
    ).one()
    return row[0], row[1]


def is_paired(version: InstrumentVersion) -> bool:
    return any(i["type"] == "paired_scale" for i in version.items)


def to_read(
    audit: Audit,
    instrument: Instrument,
    version: InstrumentVersion,
    me: schemas.MyPart | None = None,
) -> schemas.AuditRead:
    base = f"/v1/audits/{audit.id}"
    return from_row(
        schemas.AuditRead,
        audit,
        instrument=schemas.InstrumentRef(
            id=instrument.id,
            key=instrument.key,
            title=version.title,
            version=version.version,
            version_id=version.id,
            paired=is_paired(version),
        ),
        scope=schemas.ScopeRead(kind=audit.scope_kind, school_ids=list(audit.school_ids)),
        audience=schemas.AudienceRead(staff_groups=list(audit.audience_groups)),
        me=me or schemas.MyPart(),
        links=schemas.AuditLinks(
            responses=f"{base}/responses",
            my_response=f"{base}/responses/me",
            response_counts=f"{base}/responses/counts",
            results=f"{base}/results",
            chart=f"{base}/results/chart.svg",
            csv=f"{base}/results.csv",
            suggested_needs=f"{base}/suggested-needs",
        ),
    )


async def my_parts(
    session: AsyncSession, audits: Sequence[Audit], *, principal: Principal
) -> dict[uuid.UUID, schemas.MyPart]:
    """The caller's own part in each audit (never anyone else's)."""
    if principal.person_id is None or not audits:
        return {}
    ids = [a.id for a in audits]
    members, responded = await audience.mine(session, ids, principal.person_id)
    return {
        a.id: schemas.MyPart(
            in_audience=a.id in members,
            responded=a.id in responded,
            awaiting_response=a.status == "open" and a.id in members and a.id not in responded,
        )
        for a in audits
    }


async def read_audit(
    session: AsyncSession, audit: Audit, *, principal: Principal
) -> schemas.AuditRead:
    instrument, version = await instrument_of(session, audit)
    me = await my_parts(session, [audit], principal=principal)
    return to_read(audit, instrument, version, me.get(audit.id))


async def read_audits(
    session: AsyncSession, audits: Sequence[Audit], *, principal: Principal
) -> list[schemas.AuditRead]:
    if not audits:
        return []
    rows = await session.execute(
        select(Instrument, InstrumentVersion)
        .join(InstrumentVersion, InstrumentVersion.instrument_id == Instrument.id)
        .where(InstrumentVersion.id.in_({a.instrument_version_id for a in audits}))
    )
    by_version = {v.id: (i, v) for i, v in rows.all()}
    me = await my_parts(session, audits, principal=principal)
    return [to_read(a, *by_version[a.instrument_version_id], me.get(a.id)) for a in audits]


# ---- creating and changing ------------------------------------------------------------------


async def _check_scope(
    session: AsyncSession,
    scope: schemas.Scope,
    *,
    principal: Principal,
    errors: list[dict[str, str]],
) -> None:
    if scope.kind == "trust":
        if not principal.is_trust_admin:
            raise Forbidden("Only trust admins run trust-wide audits.")
        return
    known = await known_ids(
        session, School.id, scope.school_ids, School.trust_id == principal.trust_id
    )
    for i, school_id in enumerate(scope.school_ids):
        if school_id not in known:
            errors.append({"loc": f"body.scope.school_ids.{i}", "msg": "no such school"})
    if not principal.is_trust_admin:
        if "school_leader" not in principal.roles or not set(scope.school_ids) <= (
            principal.school_ids
        ):
            raise Forbidden("You may run audits only in schools you lead.")


async def create_audit(
    session: AsyncSession, data: schemas.AuditCreate, *, principal: Principal
) -> Audit:
    if not principal.has_any("trust_admin", "school_leader"):
        raise Forbidden("Only trust admins and school leaders run audits.")
    errors: list[dict[str, str]] = []
    await _check_scope(session, data.scope, principal=principal, errors=errors)
    try:
        instrument = await instruments_service.get_instrument(
            session, data.instrument_id, principal=principal
        )
        version = await instruments_service.get_version(
            session, instrument, data.instrument_version or instrument.latest_version
        )
    except InstrumentNotFound:
        errors.append({"loc": "body.instrument_id", "msg": "no such instrument"})
    except InstrumentVersionNotFound:
        errors.append({"loc": "body.instrument_version", "msg": "no such version"})
    if errors:
        raise Unprocessable("The audit cannot be created as given.", errors=errors)
    audit = Audit(
        trust_id=principal.trust_id,
        instrument_version_id=version.id,
        title=data.title,
        description=data.description,
        status="draft",
        scope_kind=data.scope.kind,
        school_ids=sorted(data.scope.school_ids),
        audience_groups=sorted(set(data.audience.staff_groups)),
        min_group_size=data.min_group_size,
        opens_on=data.opens_on,
        closes_on=data.closes_on,
        created_by=principal.person_id,
    )
    session.add(audit)
    await session.flush()
    return audit


async def update_audit(
    session: AsyncSession, audit: Audit, data: schemas.AuditUpdate, *, principal: Principal
) -> Audit:
    if not access.may_manage(principal, audit):
        raise NotAuditManager()
    changes = data.model_dump(exclude_unset=True)
    draft_only = {"scope", "audience", "opens_on", "closes_on", "min_group_size"}
    if audit.status != "draft" and draft_only & changes.keys():
        raise AuditNotDraft(
            "Scope, audience, dates and minimum group size are fixed once the audit opens."
        )
    if data.scope is not None:
        errors: list[dict[str, str]] = []
        await _check_scope(session, data.scope, principal=principal, errors=errors)
        if errors:
            raise Unprocessable("The scope is not valid.", errors=errors)
        audit.scope_kind = data.scope.kind
        audit.school_ids = sorted(data.scope.school_ids)
    if data.audience is not None:
        audit.audience_groups = sorted(set(data.audience.staff_groups))
    if data.title is not None:
        audit.title = data.title
    if "description" in changes:
        audit.description = data.description or ""
    for name in ("opens_on", "closes_on"):
        if name in changes:
            setattr(audit, name, changes[name])
    if data.min_group_size is not None:
        audit.min_group_size = data.min_group_size
    if audit.opens_on and audit.closes_on and audit.closes_on < audit.opens_on:
        raise Unprocessable(
            "closes_on is before opens_on",
            errors=[{"loc": "body.closes_on", "msg": "before opens_on"}],
        )
    audit.updated_at = utcnow()
    await session.flush()
    return audit


# ---- used by the needs register -------------------------------------------------------------


async def audit_item_keys(
    session: AsyncSession, audit_id: uuid.UUID, *, trust_id: uuid.UUID
) -> set[str] | None:
    """The item keys of an audit of this trust, or None when there is no such audit."""
    items = await session.scalar(
        select(InstrumentVersion.items)
        .join(Audit, Audit.instrument_version_id == InstrumentVersion.id)
        .where(Audit.id == audit_id, Audit.trust_id == trust_id)
    )
    if items is None:
        return None
    return {i["key"] for i in items}


async def delete_draft(session: AsyncSession, audit: Audit, *, principal: Principal) -> None:
    """Deletes a draft audit (a round set up by mistake). Open and closed audits are records
    people answered: 409. The row is locked so that a concurrent open either wins (then this
    is 409) or finds nothing."""
    if not access.may_manage(principal, audit):
        raise NotAuditManager()
    locked = await scalar_or_raise(
        session, select(Audit).where(Audit.id == audit.id).with_for_update(), AuditNotFound
    )
    if locked.status != "draft":
        raise AuditNotDraft(
            f"The audit is {locked.status}: only drafts can be deleted (people have answered "
            "or could answer this one)."
        )
    # Needs may have been linked by hand to the draft's items; the needs stay, the links go.
    await session.execute(delete(NeedAuditItem).where(NeedAuditItem.audit_id == locked.id))
    # A draft is listed to trust admins and the leaders it covers (access.visible).
    trust_wide = locked.scope_kind == "trust"
    await tombstones.record(
        session,
        Tombstone,
        resource="audits",
        ids=[locked.id],
        trust_id=locked.trust_id,
        visible_to=tombstones.audience(
            roles=("trust_admin", "school_leader") if trust_wide else ("trust_admin",),
            school_roles=("school_leader",),
            schools=[] if trust_wide else locked.school_ids or [],
        ),
    )
    await session.delete(locked)
    await session.flush()
