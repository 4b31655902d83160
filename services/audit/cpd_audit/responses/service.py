"""Anonymous responses (DESIGN.md section 7).

A response row holds the answers and the respondent's coarse attributes (school, staff
group, department, career stage, leader or not), a random id and the day: no person id.
Who has responded is a separate participation row (person, audit, day) that shares nothing
with the response, so answers cannot be joined back to a person.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_audit.audits import audience
from cpd_audit.audits import service as audits_service
from cpd_audit.instruments import schemas as instrument_schemas
from cpd_audit.instruments import service as instruments_service
from cpd_audit.models import (
    Audit,
    AuditAnswer,
    AuditAudienceMember,
    AuditParticipation,
    AuditResponse,
    InstrumentVersion,
    Person,
)
from cpd_audit.responses import schemas
from cpd_audit.responses.errors import AlreadyResponded, AuditNotOpen, NotInAudience
from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.errors import Unprocessable


async def audience_problem(
    session: AsyncSession, audit: Audit, person: Person | None
) -> tuple[str | None, AuditAudienceMember | None]:
    """Why this person may not answer the (open) audit, or their frozen audience row."""
    if person is None or not person.active:
        return audience.NOT_IN_DIRECTORY, None
    row = await audience.member(session, audit, person.id)
    if row is not None:
        return None, row
    if person.staff_group not in audit.audience_groups:
        return "Your staff group is not in this audit's audience.", None
    if audit.scope_kind != "trust" and set(person.school_ids).isdisjoint(audit.school_ids):
        return "Your school is not in this audit's scope.", None
    return audience.NOT_IN_AUDIENCE, None


async def _person(session: AsyncSession, principal: Principal) -> Person | None:
    if principal.person_id is None:
        return None
    return await session.scalar(
        select(Person).where(
            Person.id == principal.person_id, Person.trust_id == principal.trust_id
        )
    )


def validate_answers(
    items: list[instrument_schemas.Item], answers: dict[str, schemas.Answer]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Checks every answer against its item; returns the rows to store and every problem."""
    errors: list[dict[str, str]] = []
    rows: list[dict[str, Any]] = []
    by_key = {i.key: i for i in items}
    for key in answers:
        if key not in by_key:
            errors.append({"loc": f"body.answers.{key}", "msg": "no such item"})
    for item in items:
        loc = f"body.answers.{item.key}"
        answer = answers.get(item.key)
        given = answer is not None and bool(answer.model_dump(exclude_defaults=True))
        if not given:
            if item.required:
                errors.append({"loc": loc, "msg": "an answer is required"})
            elif answer is not None:
                errors.append({"loc": loc, "msg": "the answer is empty; leave the item out"})
            continue
        assert answer is not None
        problems: list[str] = []
        allowed: set[str] = set()
        row: dict[str, Any] = {"item_key": item.key, "dont_know": False}
        if isinstance(item, instrument_schemas.PairedScaleItem):
            allowed = {"values", "practice"}
            for name in ("values", "practice"):
                value = getattr(answer, name)
                if value is None:
                    problems.append(f"`{name}` is required (1 to {item.scale_max})")
                elif not 1 <= value <= item.scale_max:
                    problems.append(f"`{name}` must be between 1 and {item.scale_max}")
            row["values_score"], row["practice_score"] = answer.values, answer.practice
        elif isinstance(item, instrument_schemas.AgreementItem):
            allowed = {"score", "dont_know"} | ({"comment"} if item.comment else set())
            if answer.dont_know:
                if not item.dont_know:
                    problems.append("this item has no don't-know option")
                if answer.score is not None:
                    problems.append("give a score or don't know, not both")
                row["dont_know"] = True
            elif answer.score is None:
                problems.append(f"`score` is required (1 to {item.points}) or `dont_know`")
            elif not 1 <= answer.score <= item.points:
                problems.append(f"`score` must be between 1 and {item.points}")
            row["score"] = answer.score
            if answer.comment:
                row["text"] = answer.comment
        elif isinstance(item, instrument_schemas.SingleChoiceItem):
            allowed = {"choice"}
            keys = [c.key for c in item.choices]
            if answer.choice is None:
                problems.append("`choice` is required")
            elif answer.choice not in keys:
                problems.append("`choice` must be one of: " + ", ".join(keys))
            row["choice"] = answer.choice
        elif isinstance(item, instrument_schemas.FreeTextItem):
            allowed = {"text"}
            if not answer.text:
                problems.append("`text` is required")
            elif len(answer.text) > item.max_length:
                problems.append(f"`text` is longer than {item.max_length} characters")
            row["text"] = answer.text
        extra = sorted(set(answer.model_dump(exclude_defaults=True)) - allowed)
        if extra:
            problems.append(f"not used by a {item.type} item: " + ", ".join(extra))
        if problems:
            errors.append({"loc": loc, "msg": "; ".join(problems)})
        else:
            rows.append(row)
    return rows, errors


async def submit_response(
    session: AsyncSession,
    audit_id: uuid.UUID,
    data: schemas.ResponseCreate,
    *,
    principal: Principal,
) -> schemas.ResponseReceipt:
    visible = await audits_service.get_audit(session, audit_id, principal=principal)
    # Shares the row with other respondents but not with close (FOR UPDATE): a response
    # never lands in a closed audit.
    audit = await session.scalar(
        select(Audit).where(Audit.id == visible.id).with_for_update(read=True)
    )
    assert audit is not None
    if audit.status != "open":
        raise AuditNotOpen(f"The audit is {audit.status}; responses are taken while it is open.")
    person = await _person(session, principal)
    problem, frozen = await audience_problem(session, audit, person)
    if problem is not None:
        raise NotInAudience(problem)
    assert person is not None and frozen is not None
    version = await session.get_one(InstrumentVersion, audit.instrument_version_id)
    rows, errors = validate_answers(instruments_service.parse_items(version.items), data.answers)
    if errors:
        raise Unprocessable(
            f"{len(errors)} answer(s) need attention: "
            + "; ".join(f"{e['loc'].rsplit('.', 1)[-1]}: {e['msg']}" for e in errors[:10]),
            errors=errors,
        )
    today = utcnow().date()
    recorded = await session.scalar(
        insert(AuditParticipation)
        .values(
            id=uuid.uuid4(),
            audit_id=audit.id,
            trust_id=audit.trust_id,
            person_id=person.id,
            responded_on=today,
        )
        .on_conflict_do_nothing(index_elements=["audit_id", "person_id"])
        .returning(AuditParticipation.id)
    )
    if recorded is None:
        raise AlreadyResponded("You have already responded to this audit.")
    # The attributes frozen at opening, not today's: moving someone changes no cell.
    response = AuditResponse(
        id=uuid.uuid4(),
        audit_id=audit.id,
        trust_id=audit.trust_id,
        school_id=frozen.school_id,
        staff_group=frozen.staff_group,
        department=frozen.department,
        career_stage=frozen.career_stage,
        leadership=frozen.leadership,
        submitted_on=today,
    )
    session.add(response)
    await session.flush()
    if rows:
        await session.execute(
            insert(AuditAnswer),
            [
                {
                    "response_id": response.id,
                    "audit_id": audit.id,
                    "score": None,
                    "values_score": None,
                    "practice_score": None,
                    "choice": None,
                    "text": None,
                    **row,
                }
                for row in rows
            ],
        )
    return schemas.ResponseReceipt(audit_id=audit.id, responded_on=today, answered_items=len(rows))


async def my_response(
    session: AsyncSession, audit_id: uuid.UUID, *, principal: Principal
) -> schemas.MyResponse:
    audit = await audits_service.get_audit(session, audit_id, principal=principal)
    responded_on = None
    if principal.person_id is not None:
        responded_on = await session.scalar(
            select(AuditParticipation.responded_on).where(
                AuditParticipation.audit_id == audit.id,
                AuditParticipation.person_id == principal.person_id,
            )
        )
    reason: str | None
    if responded_on is not None:
        reason = "You have already responded."
    elif audit.status != "open":
        reason = f"The audit is {audit.status}."
    else:
        reason, _ = await audience_problem(session, audit, await _person(session, principal))
    return schemas.MyResponse(
        audit_id=audit.id,
        status=audit.status,
        responded=responded_on is not None,
        responded_on=responded_on,
        can_respond=reason is None,
        reason=reason,
    )


async def erase_participation(session: AsyncSession, person_id: uuid.UUID) -> None:
    """Right to erasure: the record that they responded goes. Their answers were never
    linked to them, so they stay in the (anonymous) results."""
    await session.execute(
        delete(AuditParticipation).where(AuditParticipation.person_id == person_id)
    )
