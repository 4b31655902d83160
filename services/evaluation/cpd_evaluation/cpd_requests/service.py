"""Requests for a place on a programme run or for support with professional study, and
their decisions.

A request goes to a leader of the requester's school, or to the trust team for trust-funded
places; nobody decides their own. Approving a place books it with one conditional UPDATE
(``places_booked < capacity``), so concurrent approvals never overbook; the person joins the
run's activity and the place's cost is added to that activity's fees (so part 1's cost
figures see it) and committed against the school's budget. Cancelling releases all three.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import events, tombstones
from cpd_common.auth import Principal
from cpd_common.db import known_ids, scalar_or_raise, utcnow, where_given
from cpd_common.events import catalogue
from cpd_common.schemas import from_row
from cpd_evaluation.activities.reads import record_activity_event
from cpd_evaluation.budgets import service as budgets_service
from cpd_evaluation.cpd_requests.errors import (
    CannotDecide,
    CannotRequest,
    InvalidRequest,
    RequestAlreadyOpen,
    RequestNotFound,
    RequestNotOpen,
    RunFull,
)
from cpd_evaluation.cpd_requests.schemas import (
    Decision,
    DecisionRead,
    RequestCreate,
    RequestRead,
)
from cpd_evaluation.models import Activity, Need, Participant
from cpd_evaluation.models.offer import CpdRequest, Programme, ProgrammeRun
from cpd_evaluation.participants import service as participants_service
from cpd_evaluation.participants.errors import AlreadyParticipating
from cpd_evaluation.records.years import AcademicYear

OPEN = ("submitted", "approved")


def visible(principal: Principal) -> ColumnElement[bool]:
    """Requesters see their own; leaders their schools'; trust admins every one."""
    if principal.is_trust_admin:
        return CpdRequest.trust_id == principal.trust_id
    mine = (
        CpdRequest.person_id == principal.person_id if principal.person_id is not None else false()
    )
    if principal.has_any("school_leader") and principal.school_ids:
        return (CpdRequest.trust_id == principal.trust_id) & or_(
            mine, CpdRequest.school_id.in_(list(principal.school_ids))
        )
    return (CpdRequest.trust_id == principal.trust_id) & mine


def may_decide(request: CpdRequest, principal: Principal) -> bool:
    if principal.person_id is not None and principal.person_id == request.person_id:
        return False
    if principal.is_trust_admin:
        return True
    return (
        not request.decided_by_trust
        and principal.has_any("school_leader")
        and request.school_id in principal.school_ids
    )


def awaiting(principal: Principal) -> ColumnElement[bool]:
    """Submitted requests the caller decides."""
    submitted = CpdRequest.status == "submitted"
    not_own = (
        or_(CpdRequest.person_id.is_(None), CpdRequest.person_id != principal.person_id)
        if principal.person_id is not None
        else CpdRequest.id.is_not(None)
    )
    if principal.is_trust_admin:
        return submitted & not_own
    if principal.has_any("school_leader") and principal.school_ids:
        return (
            submitted
            & not_own
            & ~CpdRequest.decided_by_trust
            & CpdRequest.school_id.in_(list(principal.school_ids))
        )
    return false()


def list_query(
    *,
    principal: Principal,
    status: str | None = None,
    awaiting_me: bool = False,
    mine: bool = False,
    school_id: uuid.UUID | None = None,
) -> Select[Any]:
    stmt = select(CpdRequest).where(visible(principal))
    stmt = where_given(stmt, (CpdRequest.status, status))
    if awaiting_me:
        stmt = stmt.where(awaiting(principal))
    if mine:
        stmt = stmt.where(CpdRequest.person_id == principal.person_id)
    stmt = where_given(stmt, (CpdRequest.school_id, school_id))
    return stmt


async def request_reads(session: AsyncSession, requests: list[CpdRequest]) -> list[RequestRead]:
    run_ids = {r.run_id for r in requests if r.run_id is not None}
    titles: dict[uuid.UUID, tuple[uuid.UUID | None, str]] = {}
    if run_ids:
        for row in await session.execute(
            select(ProgrammeRun.id, Programme.id.label("programme_id"), Programme.title)
            .join(Programme, Programme.id == ProgrammeRun.programme_id)
            .where(ProgrammeRun.id.in_(run_ids))
        ):
            titles[row.id] = (row.programme_id, row.title)
    out = []
    for r in requests:
        programme_id, title = titles[r.run_id] if r.run_id in titles else (None, r.course or "")
        out.append(
            from_row(
                RequestRead,
                r,
                programme_id=programme_id,
                title=title,
                need_ids=list(r.need_ids or []),
            )
        )
    return out


async def request_read(session: AsyncSession, request: CpdRequest) -> RequestRead:
    return (await request_reads(session, [request]))[0]


async def get_request(
    session: AsyncSession, request_id: uuid.UUID, *, principal: Principal, lock: bool = False
) -> CpdRequest:
    stmt = select(CpdRequest).where(CpdRequest.id == request_id, visible(principal))
    if lock:
        stmt = stmt.with_for_update()
    return await scalar_or_raise(session, stmt, RequestNotFound)


async def _check_needs(
    session: AsyncSession, need_ids: list[uuid.UUID], trust_id: uuid.UUID
) -> None:
    found = await known_ids(session, Need.id, need_ids, Need.trust_id == trust_id)
    unknown = [n for n in need_ids if n not in found]
    if unknown:
        raise InvalidRequest(
            "Needs come from your trust's needs register.",
            errors=[{"loc": "body.need_ids", "msg": f"unknown need {n}"} for n in unknown],
        )


def _school_for(
    principal: Principal, wanted: uuid.UUID | None, allowed: list[uuid.UUID] | None
) -> uuid.UUID:
    mine = sorted(principal.school_ids if allowed is None else principal.school_ids & set(allowed))
    if wanted is not None:
        if wanted not in mine:
            raise InvalidRequest(
                "The request is for one of your own schools"
                + (" that the run is open to." if allowed is not None else "."),
                errors=[{"loc": "body.school_id", "msg": "not one of your schools"}],
            )
        return wanted
    if not mine:
        raise InvalidRequest(
            "This run is not open to your school."
            if allowed is not None
            else "You need a school to ask for CPD.",
            errors=[{"loc": "body.run_id" if allowed is not None else "body", "msg": "no school"}],
        )
    return mine[0]


async def submit(session: AsyncSession, *, principal: Principal, data: RequestCreate) -> CpdRequest:
    if principal.person_id is None or not principal.has_any(
        "staff", "school_leader", "trust_admin"
    ):
        raise CannotRequest("Members of staff ask for places and for support with study.")
    await _check_needs(session, data.need_ids, principal.trust_id)
    programme: Programme | None = None
    if data.kind == "place":
        run = await session.scalar(
            select(ProgrammeRun).where(
                ProgrammeRun.id == data.run_id, ProgrammeRun.trust_id == principal.trust_id
            )
        )
        if run is None:
            raise InvalidRequest(
                "The run must be a published run of your trust's offer.",
                errors=[{"loc": "body.run_id", "msg": "unknown run"}],
            )
        if run.status != "published" or run.ends_on < utcnow().date():
            raise RequestNotOpen("The run is cancelled or over; choose another run.")
        programme = await session.get(Programme, run.programme_id)
        assert programme is not None
        request = CpdRequest(
            trust_id=principal.trust_id,
            person_id=principal.person_id,
            school_id=_school_for(principal, data.school_id, list(run.school_ids)),
            kind="place",
            run_id=run.id,
            starts_on=run.starts_on,
            ends_on=run.ends_on,
            cost=programme.cost_per_place,
            rationale=data.rationale,
            need_ids=data.need_ids or list(programme.need_ids or []),
            decided_by_trust=programme.trust_funded,
            time_off_days=data.time_off_days,
        )
    else:
        assert data.starts_on and data.ends_on and data.cost is not None
        request = CpdRequest(
            trust_id=principal.trust_id,
            person_id=principal.person_id,
            school_id=_school_for(principal, data.school_id, None),
            kind="study",
            institution=data.institution,
            course=data.course,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            cost=data.cost,
            time_off_days=data.time_off_days,
            rationale=data.rationale,
            need_ids=data.need_ids,
            decided_by_trust=False,
        )
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
    except IntegrityError as exc:
        raise RequestAlreadyOpen(
            "You already have an open request for this run; withdraw it first."
        ) from exc
    events.add(
        session,
        catalogue.RequestSubmitted(
            trust_id=request.trust_id,
            request_id=request.id,
            person_id=request.person_id,
            school_id=request.school_id,
            kind=request.kind,
            run_id=request.run_id,
            programme_id=programme.id if programme else None,
            starts_on=request.starts_on,
            cost=float(request.cost),
            decided_by_trust=request.decided_by_trust,
        ),
    )
    return request


async def _book(
    session: AsyncSession, request: CpdRequest, *, principal: Principal
) -> tuple[ProgrammeRun, Participant]:
    run = await session.scalar(
        update(ProgrammeRun)
        .where(
            ProgrammeRun.id == request.run_id,
            ProgrammeRun.status == "published",
            ProgrammeRun.places_booked < ProgrammeRun.capacity,
        )
        .values(places_booked=ProgrammeRun.places_booked + 1, updated_at=utcnow())
        .returning(ProgrammeRun)
        .execution_options(populate_existing=True)
    )
    if run is None:
        current = await session.get(ProgrammeRun, request.run_id)
        if current is not None and current.status != "published":
            raise RequestNotOpen("The run was cancelled.")
        raise RunFull("Every place on this run is booked; decline or offer a later run.")
    activity = await session.get(Activity, run.activity_id, with_for_update=True)
    assert activity is not None and request.person_id is not None
    try:
        participant = await participants_service.add_participant_row(
            session, activity=activity, person_id=request.person_id, role="participant"
        )
    except AlreadyParticipating:
        found = await session.scalar(
            select(Participant).where(
                Participant.activity_id == activity.id,
                Participant.person_id == request.person_id,
            )
        )
        assert found is not None
        participant = found
    activity.fees = activity.fees + request.cost
    activity.updated_at = utcnow()
    await session.flush()
    await participants_service.record_participation(session, activity, [participant.id])
    await record_activity_event(session, activity)
    return run, participant


async def decide(
    session: AsyncSession, request: CpdRequest, *, principal: Principal, data: Decision
) -> DecisionRead:
    if not may_decide(request, principal):
        raise CannotDecide(
            "Trust-funded places are decided by the trust team; others by a leader of the "
            "requester's school. Nobody decides their own request."
        )
    if request.status != "submitted":
        raise RequestNotOpen(f"The request is {request.status}; only a submitted one is decided.")
    warnings: list[str] = []
    if data.decision == "approve":
        if not request.decided_by_trust:
            warnings = await budgets_service.approval_warnings(
                session,
                trust_id=request.trust_id,
                school_id=request.school_id,
                year=AcademicYear.containing(request.starts_on),
                cost=request.cost,
            )
        booked: tuple[ProgrammeRun, Participant] | None = None
        if request.kind == "place":
            booked = await _book(session, request, principal=principal)
            request.participant_id = booked[1].id
        request.status = "approved"
    else:
        request.status = "declined"
    request.decided_by = principal.person_id
    request.decided_at = utcnow()
    request.reason = data.reason
    request.updated_at = utcnow()
    await session.flush()
    events.add(
        session,
        catalogue.RequestDecided(
            trust_id=request.trust_id,
            request_id=request.id,
            person_id=request.person_id,
            school_id=request.school_id,
            kind=request.kind,
            decision=request.status,
            decided_by=request.decided_by,
            cost=float(request.cost),
        ),
    )
    if request.status == "approved" and request.kind == "place" and booked is not None:
        run, participant = booked
        events.add(
            session,
            catalogue.PlaceBooked(
                trust_id=request.trust_id,
                request_id=request.id,
                run_id=run.id,
                programme_id=run.programme_id,
                activity_id=run.activity_id,
                person_id=request.person_id,
                participation_id=participant.id,
                places_left=run.capacity - run.places_booked,
            ),
        )
    read = await request_read(session, request)
    return DecisionRead(**read.model_dump(), warnings=warnings)


async def _release(session: AsyncSession, request: CpdRequest) -> bool:
    """Gives back a booked place: one place on the run, the person's participation (unless
    attendance was already recorded on it) and the fees it added."""
    if request.status != "approved" or request.kind != "place":
        return False
    run = await session.get(ProgrammeRun, request.run_id, with_for_update=True)
    assert run is not None
    if run.status == "published":
        run.places_booked = max(0, run.places_booked - 1)
        run.updated_at = utcnow()
    activity = await session.get(Activity, run.activity_id, with_for_update=True)
    assert activity is not None
    activity.fees = max(Decimal(0), activity.fees - request.cost)
    activity.updated_at = utcnow()
    if request.participant_id is not None and activity.status == "active":
        participant = await session.get(Participant, request.participant_id)
        if participant is not None:
            participants_service.record_removed(session, activity, participant)
            await tombstones.delete(session, participant, parent_id=activity.id)
        request.participant_id = None
    await session.flush()
    await record_activity_event(session, activity)
    return True


async def cancel(
    session: AsyncSession, request: CpdRequest, *, principal: Principal, reason: str | None
) -> CpdRequest:
    """The requester withdraws (before it ends), or a decider cancels."""
    own = principal.person_id is not None and principal.person_id == request.person_id
    if not own and not may_decide(request, principal):
        raise CannotDecide("Only the requester or whoever decides it can cancel a request.")
    if request.status not in OPEN:
        raise RequestNotOpen(f"The request is {request.status} already.")
    if request.status == "approved" and request.ends_on < utcnow().date():
        raise RequestNotOpen("The CPD has taken place; it stays on the record.")
    released = await _release(session, request)
    request.status = "cancelled"
    request.cancelled_at = utcnow()
    request.reason = reason or request.reason
    request.updated_at = utcnow()
    await session.flush()
    _cancelled_event(session, request, released)
    return request


def _cancelled_event(session: AsyncSession, request: CpdRequest, released: bool) -> None:
    events.add(
        session,
        catalogue.RequestCancelled(
            trust_id=request.trust_id,
            request_id=request.id,
            person_id=request.person_id,
            school_id=request.school_id,
            released_place=released,
        ),
    )


async def cancel_for_run(session: AsyncSession, run: ProgrammeRun) -> int:
    """A cancelled run cancels its open requests (the run's activity is cancelled, so the
    participations stay as its record; places and committed costs are released)."""
    requests = list(
        await session.scalars(
            select(CpdRequest)
            .where(CpdRequest.run_id == run.id, CpdRequest.status.in_(OPEN))
            .order_by(CpdRequest.id)
            .with_for_update()
        )
    )
    activity = await session.get(Activity, run.activity_id, with_for_update=True)
    for request in requests:
        released = request.status == "approved"
        if released and activity is not None:
            activity.fees = max(Decimal(0), activity.fees - request.cost)
        request.status = "cancelled"
        request.cancelled_at = utcnow()
        request.reason = request.reason or "The run was cancelled."
        request.updated_at = utcnow()
        _cancelled_event(session, request, released)
    run.places_booked = 0
    await session.flush()
    if activity is not None and requests:
        await record_activity_event(session, activity)
    return len(requests)
