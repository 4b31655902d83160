"""The rules of the needs register.

Whole-school and team needs are visible to everyone in the school (staff, governors,
leaders) and to trust admins. Individual needs are personal: only the person, their line
manager, a mentor they share their career plan with, leaders of the school and trust admins
see them; to anyone else they do not exist (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import service as audits_service
from cpd_audit.directory import person_in_trust, school_in_trust
from cpd_audit.models import (
    AcceptedSuggestion,
    CareerPlan,
    CareerPlanShare,
    Need,
    NeedAuditItem,
    Person,
)
from cpd_audit.needs import schemas
from cpd_audit.needs.errors import NeedNotFound, SuggestionAlreadyAccepted
from cpd_audit.planning_roles import leads_school, led_school_ids, require_planning_role
from cpd_audit.results import suggestions as suggestions_service
from cpd_common import events
from cpd_common.auth import Principal
from cpd_common.db import scalar_or_raise, where_given
from cpd_common.errors import Forbidden, Unprocessable, is_unique_violation
from cpd_common.events import catalogue
from cpd_common.pagination import ID_ORDER, PageParams, SortKey, paginate, sort_param, text_search
from cpd_common.schemas import from_row


def _mentees(principal: Principal) -> Any:
    """People who share a career plan with the caller: the caller is their mentor."""
    return (
        select(CareerPlan.owner_id)
        .join(CareerPlanShare, CareerPlanShare.plan_id == CareerPlan.id)
        .where(CareerPlanShare.mentor_id == principal.person_id)
    )


def _reports(principal: Principal) -> Any:
    """People whose line manager is the caller."""
    return select(Person.id).where(
        Person.trust_id == principal.trust_id, Person.line_manager_id == principal.person_id
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The needs the caller may see, as a WHERE clause (tenant filter included)."""
    in_trust = Need.trust_id == principal.trust_id
    if principal.is_trust_admin:
        return in_trust
    led = led_school_ids(principal)
    collective = and_(Need.level != "individual", Need.school_id.in_(list(principal.school_ids)))
    personal: ColumnElement[bool] = false()
    if principal.person_id is not None:
        personal = or_(
            Need.person_id == principal.person_id,
            Need.person_id.in_(_reports(principal)),
            Need.person_id.in_(_mentees(principal)),
        )
    return and_(
        in_trust,
        or_(Need.school_id.in_(led) if led else false(), collective, personal),
    )


async def get_need(session: AsyncSession, need_id: uuid.UUID, *, principal: Principal) -> Need:
    return await scalar_or_raise(
        session, select(Need).where(Need.id == need_id, visible(principal)), NeedNotFound
    )


# ``?sort=`` of ``GET /v1/needs``: ``priority`` puts high first, then medium, then low.
SORTS = sort_param(
    {
        "title": func.lower(Need.title),
        "priority": case({"high": 0, "medium": 1, "low": 2}, value=Need.priority, else_=3),
        "status": Need.status,
        "created_at": Need.created_at,
        "updated_at": Need.updated_at,
    }
)


async def list_needs(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    sort: SortKey = ID_ORDER,
    q: str | None = None,
    school_id: uuid.UUID | None = None,
    level: str | None = None,
    status: str | None = None,
    priority: str | None = None,
    person_id: uuid.UUID | None = None,
    need_type: str | None = None,
    audit_id: uuid.UUID | None = None,
) -> tuple[list[Need], str | None]:
    require_planning_role(principal)
    stmt = select(Need).where(visible(principal))
    search = text_search(q, Need.title, Need.description, Need.team_name)
    if search is not None:
        stmt = stmt.where(search)
    stmt = where_given(
        stmt,
        (Need.school_id, school_id),
        (Need.level, level),
        (Need.status, status),
        (Need.priority, priority),
        (Need.person_id, person_id),
    )
    if need_type is not None:
        stmt = stmt.where(Need.need_types.contains([need_type]))
    if audit_id is not None:
        stmt = stmt.where(
            select(NeedAuditItem.need_id)
            .where(NeedAuditItem.need_id == Need.id, NeedAuditItem.audit_id == audit_id)
            .exists()
        )
    return await paginate(session, stmt, Need.id, page, sort=sort)


async def audit_links(
    session: AsyncSession, need_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[schemas.AuditItemLinkRead]]:
    """Each need's linked audit items, grouped by audit in the order they were given."""
    out: dict[uuid.UUID, list[schemas.AuditItemLinkRead]] = {i: [] for i in need_ids}
    if not need_ids:
        return out
    rows = await session.execute(
        select(NeedAuditItem.need_id, NeedAuditItem.audit_id, NeedAuditItem.item_key)
        .where(NeedAuditItem.need_id.in_(list(need_ids)))
        .order_by(NeedAuditItem.need_id, NeedAuditItem.position)
    )
    for need_id, audit_id, item_key in rows:
        links = out[need_id]
        if links and links[-1].audit_id == audit_id:
            links[-1].item_keys.append(item_key)
        else:
            links.append(schemas.AuditItemLinkRead(audit_id=audit_id, item_keys=[item_key]))
    return out


def to_read(need: Need, links: list[schemas.AuditItemLinkRead]) -> schemas.NeedRead:
    return from_row(
        schemas.NeedRead,
        need,
        evidence=[schemas.EvidenceRead(**e) for e in need.evidence],
        intended_outcomes=schemas.IntendedOutcomesRead(
            short_term=need.outcome_short_term,
            medium_term=need.outcome_medium_term,
            long_term=need.outcome_long_term,
        ),
        audit_items=links,
    )


async def read_need(session: AsyncSession, need: Need) -> schemas.NeedRead:
    links = await audit_links(session, [need.id])
    return to_read(need, links[need.id])


async def read_needs(session: AsyncSession, needs: Sequence[Need]) -> list[schemas.NeedRead]:
    links = await audit_links(session, [n.id for n in needs])
    return [to_read(n, links[n.id]) for n in needs]


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


async def _check_audit_items(
    session: AsyncSession,
    links: Sequence[schemas.AuditItemLink],
    *,
    principal: Principal,
    errors: list[dict[str, str]],
    loc: str,
) -> None:
    """Every linked audit must be one of the caller's trust, and every key one of its items."""
    for i, link in enumerate(links):
        item_keys = await audits_service.audit_item_keys(
            session, link.audit_id, trust_id=principal.trust_id
        )
        if item_keys is None:
            errors.append({"loc": f"{loc}.{i}.audit_id", "msg": "no such audit in your trust"})
            continue
        for key in link.item_keys:
            if key not in item_keys:
                errors.append(
                    {"loc": f"{loc}.{i}.item_keys", "msg": f"the audit has no item {key!r}"}
                )


def _check_team(
    level: str, team_kind: str | None, team_name: str | None, errors: list[dict[str, str]]
) -> None:
    if level == "team":
        if team_kind is None:
            errors.append({"loc": "body.team_kind", "msg": "a team need names its kind"})
        if not team_name:
            errors.append({"loc": "body.team_name", "msg": "a team need names its team"})
    else:
        if team_kind is not None:
            errors.append({"loc": "body.team_kind", "msg": "only team needs name a team"})
        if team_name is not None:
            errors.append({"loc": "body.team_name", "msg": "only team needs name a team"})


def _may_record(
    principal: Principal, *, level: str, school_id: uuid.UUID, person: Person | None
) -> bool:
    """Leaders record any need of their school; staff record their own individual needs and
    those of the people they line-manage."""
    if leads_school(principal, school_id):
        return True
    if level != "individual" or person is None or principal.person_id is None:
        return False
    if not principal.has_any("staff", "school_leader"):
        return False
    return person.id == principal.person_id or person.line_manager_id == principal.person_id


def _may_change(principal: Principal, need: Need, person: Person | None) -> bool:
    return _may_record(principal, level=need.level, school_id=need.school_id, person=person)


async def _set_audit_items(
    session: AsyncSession, need: Need, links: Sequence[schemas.AuditItemLink]
) -> None:
    await session.execute(delete(NeedAuditItem).where(NeedAuditItem.need_id == need.id))
    position = 0
    seen: set[tuple[uuid.UUID, str]] = set()
    for link in links:
        for key in link.item_keys:
            if (link.audit_id, key) in seen:
                continue
            seen.add((link.audit_id, key))
            session.add(
                NeedAuditItem(
                    need_id=need.id, audit_id=link.audit_id, item_key=key, position=position
                )
            )
            position += 1


def _recorded_event(
    session: AsyncSession, need: Need, links: Sequence[schemas.AuditItemLink]
) -> None:
    first = links[0] if links else None
    events.add(
        session,
        catalogue.NeedRecorded(
            need_id=need.id,
            trust_id=need.trust_id,
            school_id=need.school_id,
            level=need.level,
            need_types=need.need_types,
            priority=need.priority,
            audit_id=first.audit_id if first else None,
            item_keys=_unique(first.item_keys) if first else [],
        ),
    )


async def record_need(
    session: AsyncSession, data: schemas.NeedCreate, *, principal: Principal
) -> Need:
    """Records a need and publishes ``audit.need.recorded`` in the same transaction."""
    require_planning_role(principal)
    errors: list[dict[str, str]] = []
    if not await school_in_trust(session, data.school_id, principal.trust_id):
        errors.append({"loc": "body.school_id", "msg": "no such school in your trust"})
    _check_team(data.level, data.team_kind, data.team_name, errors)
    person: Person | None = None
    if data.level == "individual":
        if data.person_id is None:
            errors.append({"loc": "body.person_id", "msg": "an individual need names the person"})
        else:
            person = await person_in_trust(session, data.person_id, principal.trust_id)
            if person is None:
                errors.append({"loc": "body.person_id", "msg": "no such person in your trust"})
            elif data.school_id not in person.school_ids:
                errors.append(
                    {"loc": "body.person_id", "msg": "the person does not work at this school"}
                )
    elif data.person_id is not None:
        errors.append({"loc": "body.person_id", "msg": "only individual needs name a person"})
    await _check_audit_items(
        session, data.audit_items, principal=principal, errors=errors, loc="body.audit_items"
    )
    if errors:
        raise Unprocessable("The need is not valid.", errors=errors)
    if not _may_record(principal, level=data.level, school_id=data.school_id, person=person):
        raise Forbidden("Your role does not allow recording this need.")
    need = Need(
        trust_id=principal.trust_id,
        school_id=data.school_id,
        level=data.level,
        team_kind=data.team_kind,
        team_name=data.team_name,
        person_id=data.person_id,
        title=data.title,
        description=data.description,
        need_types=_unique(data.need_types),
        evidence=[e.model_dump() for e in data.evidence],
        priority=data.priority,
        outcome_short_term=data.intended_outcomes.short_term,
        outcome_medium_term=data.intended_outcomes.medium_term,
        outcome_long_term=data.intended_outcomes.long_term,
        status=data.status,
        recorded_by=principal.person_id,
    )
    session.add(need)
    await session.flush()
    await _set_audit_items(session, need, data.audit_items)
    _recorded_event(session, need, data.audit_items)
    await session.flush()
    return need


async def update_need(
    session: AsyncSession, need: Need, data: schemas.NeedUpdate, *, principal: Principal
) -> Need:
    changes = data.model_dump(exclude_unset=True)
    errors: list[dict[str, str]] = []
    for field in ("title", "description", "need_types", "evidence", "priority", "status"):
        if field in changes and changes[field] is None:
            errors.append({"loc": f"body.{field}", "msg": "may not be null"})
    team_kind = changes.get("team_kind", need.team_kind)
    team_name = changes.get("team_name", need.team_name)
    if "team_kind" in changes or "team_name" in changes:
        _check_team(need.level, team_kind, team_name, errors)
    if data.audit_items:
        await _check_audit_items(
            session, data.audit_items, principal=principal, errors=errors, loc="body.audit_items"
        )
    if errors:
        raise Unprocessable("The change is not valid.", errors=errors)
    person = (
        await person_in_trust(session, need.person_id, principal.trust_id)
        if need.person_id is not None
        else None
    )
    if not _may_change(principal, need, person):
        raise Forbidden("Your role does not allow changing this need.")
    need.team_kind, need.team_name = team_kind, team_name
    for field in ("title", "description", "priority", "status"):
        if field in changes:
            setattr(need, field, changes[field])
    if "need_types" in changes:
        need.need_types = _unique(changes["need_types"])
    if data.evidence is not None:
        need.evidence = [e.model_dump() for e in data.evidence]
    if "intended_outcomes" in changes:
        outcomes = data.intended_outcomes or schemas.IntendedOutcomes()
        need.outcome_short_term = outcomes.short_term
        need.outcome_medium_term = outcomes.medium_term
        need.outcome_long_term = outcomes.long_term
    if "audit_items" in changes:
        await _set_audit_items(session, need, data.audit_items or [])
    await session.flush()
    await session.refresh(need)
    return need


async def accept_suggestion(
    session: AsyncSession,
    audit_id: uuid.UUID,
    data: schemas.SuggestionAccept,
    *,
    principal: Principal,
) -> Need:
    """Turns one of an audit's suggested needs into a need in the register, with the item
    and its figures as evidence."""
    suggestions = await suggestions_service.suggested_needs(session, audit_id, principal=principal)
    suggestion = next((s for s in suggestions.items if s.item_key == data.item_key), None)
    if suggestion is None:
        raise Unprocessable(
            "The audit suggests no need for this item.",
            errors=[{"loc": "body.item_key", "msg": "not one of the audit's suggested needs"}],
        )
    school_id = data.school_id
    scope_schools = list(suggestions.school_ids)
    if school_id is None:
        if len(scope_schools) != 1:
            raise Unprocessable(
                "The audit covers several schools: say which school the need belongs to.",
                errors=[{"loc": "body.school_id", "msg": "required for this audit"}],
            )
        school_id = scope_schools[0]
    elif scope_schools and school_id not in scope_schools:
        raise Unprocessable(
            "The school is not in the audit's scope.",
            errors=[{"loc": "body.school_id", "msg": "not in the audit's scope"}],
        )
    team = (data.team_name or "").strip().lower() if data.level == "team" else ""
    key = (audit_id, data.item_key, school_id, team)
    await _refuse_accepted_twice(session, key)
    create = schemas.NeedCreate(
        school_id=school_id,
        level=data.level,
        team_kind=data.team_kind,
        team_name=data.team_name,
        title=data.title or suggestion.title,
        description=data.description if data.description is not None else suggestion.description,
        need_types=data.need_types,
        evidence=[schemas.Evidence(source="survey", notes=suggestion.evidence_note)],
        priority=data.priority,
        intended_outcomes=data.intended_outcomes,
        audit_items=[schemas.AuditItemLink(audit_id=audit_id, item_keys=[data.item_key])],
    )
    # The primary key of accepted_suggestions holds "one need per audit item, school and
    # team": of concurrent accepts, one inserts and the others fail here with a 409.
    try:
        async with session.begin_nested():
            need = await record_need(session, create, principal=principal)
            session.add(
                AcceptedSuggestion(
                    audit_id=audit_id,
                    item_key=data.item_key,
                    school_id=school_id,
                    team=team,
                    trust_id=principal.trust_id,
                    need_id=need.id,
                )
            )
            await session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        await _refuse_accepted_twice(session, key)
        raise
    return need


async def _refuse_accepted_twice(
    session: AsyncSession, key: tuple[uuid.UUID, str, uuid.UUID, str]
) -> None:
    audit_id, item_key, school_id, team = key
    existing = (
        await session.execute(
            select(Need.id, Need.status)
            .join(AcceptedSuggestion, AcceptedSuggestion.need_id == Need.id)
            .where(
                AcceptedSuggestion.audit_id == audit_id,
                AcceptedSuggestion.item_key == item_key,
                AcceptedSuggestion.school_id == school_id,
                AcceptedSuggestion.team == team,
            )
        )
    ).first()
    if existing is not None:
        raise SuggestionAlreadyAccepted(existing.id, existing.status)
