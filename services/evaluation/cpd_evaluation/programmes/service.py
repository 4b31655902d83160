"""The trust's CPD offer: programmes matched to career stages and needs, and their published
runs. Publishing a run records its activity (part 1) with the run's sessions, so attendance
and hours are recorded once, on that activity; booked places join it as participants.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_common.db import known_ids, one_of_a_kind, scalar_or_raise, utcnow, where_given
from cpd_common.schemas import from_row
from cpd_evaluation.activities import service as activities_service
from cpd_evaluation.activities.schemas import ActivityCreate, SessionIn
from cpd_evaluation.career_stages import service as ladder_service
from cpd_evaluation.models import Activity, Need, Person, School
from cpd_evaluation.models.offer import Programme, ProgrammeRun, RunSession
from cpd_evaluation.programmes.errors import (
    CannotManageProgrammes,
    InvalidProgramme,
    ProgrammeHasRuns,
    ProgrammeNotFound,
    ProgrammeTitleTaken,
    RunCancelled,
    RunNotFound,
)
from cpd_evaluation.programmes.schemas import (
    ProgrammeCreate,
    ProgrammeRead,
    ProgrammeUpdate,
    RunCreate,
    RunRead,
    RunSessionRead,
)
from cpd_evaluation.providers import service as providers_service
from cpd_evaluation.terms import SUSTAINED_MIN_DAYS
from cpd_evaluation.terms.offer import FORMAT_KINDS

LONDON = ZoneInfo("Europe/London")
TITLE_TAKEN = "Your trust already offers a programme of that title; change that one."


def ensure_manager(principal: Principal) -> None:
    if not principal.has_any("trust_admin", "school_leader"):
        raise CannotManageProgrammes("Leaders and trust admins publish the trust's CPD offer.")


def sustained(first: date | None, last: date | None, sessions: int) -> bool:
    return (
        first is not None
        and last is not None
        and sessions >= 2
        and (last - first).days >= SUSTAINED_MIN_DAYS
    )


async def _check_refs(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID,
    stage_keys: list[str] | None,
    need_ids: list[uuid.UUID] | None,
    provider_id: uuid.UUID | None,
) -> None:
    errors: list[dict[str, str]] = []
    if stage_keys:
        known = await ladder_service.keys_of(session, trust_id)
        errors += [
            {"loc": "body.stage_keys", "msg": f"unknown career stage {k}"}
            for k in stage_keys
            if k not in known
        ]
    if need_ids:
        found = await known_ids(session, Need.id, need_ids, Need.trust_id == trust_id)
        errors += [
            {"loc": "body.need_ids", "msg": f"unknown need {n}"} for n in need_ids if n not in found
        ]
    if errors:
        raise InvalidProgramme(
            "Career stages come from your trust's ladder and needs from its needs register.",
            errors=errors,
        )
    await providers_service.check_provider(session, provider_id, trust_id=trust_id)


def list_query(
    *,
    principal: Principal,
    stage_key: str | None = None,
    need_ids: list[uuid.UUID] | None = None,
    subject: str | None = None,
    programme_format: str | None = None,
    runs_from: date | None = None,
    runs_to: date | None = None,
    places_left: bool = False,
    today: date | None = None,
) -> Select[Any]:
    """Programmes of the caller's trust with the filters a member of staff needs."""
    stmt = select(Programme).where(Programme.trust_id == principal.trust_id)
    if stage_key is not None:
        # Offered to the stage, or to everyone (no stages named).
        stmt = stmt.where(
            or_(
                Programme.stage_keys.contains([stage_key]),
                func.cardinality(Programme.stage_keys) == 0,
            )
        )
    if need_ids is not None:
        stmt = stmt.where(Programme.need_ids.overlap(need_ids or [uuid.UUID(int=0)]))
    if subject is not None:
        stmt = stmt.where(func.lower(Programme.subject) == subject.lower())
    stmt = where_given(stmt, (Programme.format, programme_format))
    run_conditions = [
        ProgrammeRun.programme_id == Programme.id,
        ProgrammeRun.status == "published",
    ]
    if runs_from is not None:
        run_conditions.append(ProgrammeRun.ends_on >= runs_from)
    if runs_to is not None:
        run_conditions.append(ProgrammeRun.starts_on <= runs_to)
    if places_left:
        run_conditions += [
            ProgrammeRun.places_booked < ProgrammeRun.capacity,
            ProgrammeRun.starts_on >= (today or utcnow().date()),
        ]
    if runs_from is not None or runs_to is not None or places_left:
        stmt = stmt.where(exists().where(and_(*run_conditions)))
    return stmt


async def needs_of(session: AsyncSession, principal: Principal) -> list[uuid.UUID]:
    """The needs that concern the caller: their schools' and the trust's whole-trust ones."""
    person = await session.get(Person, principal.person_id) if principal.person_id else None
    schools = list(person.school_ids) if person else list(principal.school_ids)
    return list(
        (
            await session.scalars(
                select(Need.id).where(
                    Need.trust_id == principal.trust_id,
                    or_(Need.school_id.is_(None), Need.school_id.in_(schools or [None])),
                )
            )
        ).all()
    )


async def programme_reads(
    session: AsyncSession, programmes: list[Programme], *, today: date | None = None
) -> list[ProgrammeRead]:
    """One round trip for every programme's run figures."""
    today = today or utcnow().date()
    ids = [p.id for p in programmes]
    figures: dict[uuid.UUID, Any] = {}
    if ids:
        span = (
            select(
                RunSession.run_id,
                func.min(RunSession.starts_at).label("first"),
                func.max(RunSession.starts_at).label("last"),
                func.count().label("n"),
            )
            .group_by(RunSession.run_id)
            .subquery()
        )
        rows = await session.execute(
            select(
                ProgrammeRun.programme_id,
                func.count().filter(ProgrammeRun.ends_on >= today).label("upcoming"),
                func.coalesce(
                    func.sum(ProgrammeRun.capacity - ProgrammeRun.places_booked).filter(
                        ProgrammeRun.starts_on >= today
                    ),
                    0,
                ).label("left"),
                func.bool_or(
                    and_(span.c.n >= 2, span.c.last - span.c.first >= timedelta(SUSTAINED_MIN_DAYS))
                ).label("sustained"),
            )
            .join(span, span.c.run_id == ProgrammeRun.id)
            .where(ProgrammeRun.programme_id.in_(ids), ProgrammeRun.status == "published")
            .group_by(ProgrammeRun.programme_id)
        )
        figures = {r.programme_id: r for r in rows}
    out = []
    for p in programmes:
        f = figures.get(p.id)
        out.append(
            from_row(
                ProgrammeRead,
                p,
                stage_keys=list(p.stage_keys or []),
                staff_groups=list(p.staff_groups or []),
                need_ids=list(p.need_ids or []),
                sustained=bool(f.sustained) if f else False,
                upcoming_runs=int(f.upcoming) if f else 0,
                places_left=int(f.left) if f else 0,
            )
        )
    return out


async def programme_read(session: AsyncSession, programme: Programme) -> ProgrammeRead:
    return (await programme_reads(session, [programme]))[0]


async def get_programme(
    session: AsyncSession, programme_id: uuid.UUID, *, principal: Principal, lock: bool = False
) -> Programme:
    stmt = select(Programme).where(
        Programme.id == programme_id, Programme.trust_id == principal.trust_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return await scalar_or_raise(session, stmt, ProgrammeNotFound)


async def create_programme(
    session: AsyncSession, *, principal: Principal, data: ProgrammeCreate
) -> Programme:
    ensure_manager(principal)
    await _check_refs(
        session,
        trust_id=principal.trust_id,
        stage_keys=data.stage_keys,
        need_ids=data.need_ids,
        provider_id=data.provider_id,
    )
    programme = Programme(
        trust_id=principal.trust_id, created_by=principal.person_id, **data.model_dump()
    )
    async with one_of_a_kind(session, ProgrammeTitleTaken(TITLE_TAKEN)):
        session.add(programme)
        await session.flush()
    return programme


async def update_programme(
    session: AsyncSession, programme: Programme, *, principal: Principal, data: ProgrammeUpdate
) -> Programme:
    ensure_manager(principal)
    changes = data.model_dump(exclude_unset=True)
    required = ("title", "format", "stage_keys", "staff_groups", "need_ids", "subject_specific")
    for name in (*required, "cost_per_place", "trust_funded"):
        if name in changes and changes[name] is None:
            raise InvalidProgramme(
                f"{name} cannot be null.", errors=[{"loc": f"body.{name}", "msg": "required"}]
            )
    subject_specific = changes.get("subject_specific", programme.subject_specific)
    subject = changes.get("subject", programme.subject)
    if subject_specific and not subject:
        raise InvalidProgramme(
            "A subject-specific programme names its subject.",
            errors=[{"loc": "body.subject", "msg": "required when subject_specific"}],
        )
    if not subject_specific and subject:
        changes["subject"] = None
    await _check_refs(
        session,
        trust_id=programme.trust_id,
        stage_keys=changes.get("stage_keys"),
        need_ids=changes.get("need_ids"),
        provider_id=changes.get("provider_id"),
    )
    async with one_of_a_kind(session, ProgrammeTitleTaken(TITLE_TAKEN)):
        for name, value in changes.items():
            setattr(programme, name, value)
        programme.updated_at = utcnow()
        await session.flush()
    return programme


async def delete_programme(
    session: AsyncSession, programme: Programme, *, principal: Principal
) -> None:
    ensure_manager(principal)
    if await session.scalar(select(exists().where(ProgrammeRun.programme_id == programme.id))):
        raise ProgrammeHasRuns(
            "Runs of this programme were published and are kept as a record; cancel them "
            "instead, or change the programme."
        )
    await tombstones.delete(session, programme)


# ---- runs ----------------------------------------------------------------------------------


async def run_reads(session: AsyncSession, runs: list[ProgrammeRun]) -> list[RunRead]:
    sessions: dict[uuid.UUID, list[RunSession]] = {r.id: [] for r in runs}
    if runs:
        for s in await session.scalars(
            select(RunSession)
            .where(RunSession.run_id.in_(list(sessions)))
            .order_by(RunSession.starts_at, RunSession.id)
        ):
            sessions[s.run_id].append(s)
    out = []
    for run in runs:
        mine = sessions[run.id]
        days = [s.starts_at.astimezone(LONDON).date() for s in mine]
        out.append(
            from_row(
                RunRead,
                run,
                school_ids=list(run.school_ids),
                places_left=run.capacity - run.places_booked,
                sustained=sustained(min(days, default=None), max(days, default=None), len(days)),
                sessions=[from_row(RunSessionRead, s) for s in mine],
            )
        )
    return out


async def run_read(session: AsyncSession, run: ProgrammeRun) -> RunRead:
    return (await run_reads(session, [run]))[0]


def runs_query(programme: Programme) -> Select[Any]:
    return select(ProgrammeRun).where(
        ProgrammeRun.programme_id == programme.id, ProgrammeRun.trust_id == programme.trust_id
    )


async def get_run(
    session: AsyncSession,
    programme: Programme,
    run_id: uuid.UUID,
    *,
    lock: bool = False,
) -> ProgrammeRun:
    stmt = runs_query(programme).where(ProgrammeRun.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    return await scalar_or_raise(session, stmt, RunNotFound)


async def publish_run(
    session: AsyncSession, programme: Programme, *, principal: Principal, data: RunCreate
) -> ProgrammeRun:
    """Publishes a run: records its activity with the run's sessions (as London dates and
    minutes), then the run. Leaders publish runs for their own schools; a run for the whole
    trust is the trust team's."""
    ensure_manager(principal)
    school_ids = data.school_ids
    if not school_ids:
        if not principal.is_trust_admin:
            raise InvalidProgramme(
                "Leaders publish runs for their own schools; name them in school_ids.",
                errors=[{"loc": "body.school_ids", "msg": "required unless you are a trust admin"}],
            )
        school_ids = list(
            (
                await session.scalars(
                    select(School.id)
                    .where(School.trust_id == principal.trust_id)
                    .order_by(School.name, School.id)
                )
            ).all()
        )[:50]
    elif not principal.is_trust_admin and not set(school_ids) <= principal.school_ids:
        raise InvalidProgramme(
            "Leaders publish runs for the schools they lead.",
            errors=[{"loc": "body.school_ids", "msg": "not one of your schools"}],
        )
    ordered = sorted(data.sessions, key=lambda s: s.starts_at)
    activity = await activities_service.create_activity(
        session,
        principal=principal,
        data=ActivityCreate(
            title=programme.title,
            kind=FORMAT_KINDS[programme.format],
            provider_id=programme.provider_id,
            school_ids=school_ids,
            subject_specific=programme.subject_specific,
            subject=programme.subject,
            focus=programme.description[:4000] if programme.description else None,
            need_ids=list(programme.need_ids or []),
            sessions=[
                SessionIn(
                    title=s.title,
                    held_on=s.starts_at.astimezone(LONDON).date(),
                    duration_minutes=max(1, int((s.ends_at - s.starts_at).total_seconds() // 60)),
                )
                for s in ordered
            ],
        ),
    )
    days = [s.starts_at.astimezone(LONDON).date() for s in ordered]
    run = ProgrammeRun(
        trust_id=programme.trust_id,
        programme_id=programme.id,
        activity_id=activity.id,
        school_ids=school_ids,
        capacity=data.capacity,
        places_booked=0,
        status="published",
        starts_on=min(days),
        ends_on=max(days),
        published_by=principal.person_id,
    )
    session.add(run)
    await session.flush()
    session.add_all(
        RunSession(
            trust_id=run.trust_id,
            run_id=run.id,
            title=s.title,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            place=s.place,
            link=s.link,
        )
        for s in ordered
    )
    await session.flush()
    return run


def ensure_published(run: ProgrammeRun) -> None:
    if run.status != "published":
        raise RunCancelled("The run is cancelled; it is kept as a record.")


async def cancel_run(
    session: AsyncSession, run: ProgrammeRun, *, principal: Principal, reason: str | None
) -> ProgrammeRun:
    """Cancels a run and its activity; open requests for it are cancelled (places and
    committed budget released) by the caller (:mod:`cpd_evaluation.cpd_requests`)."""
    ensure_manager(principal)
    if not principal.is_trust_admin and not set(run.school_ids) <= principal.school_ids:
        raise CannotManageProgrammes("The run is open to schools you do not lead.")
    ensure_published(run)
    run.status = "cancelled"
    run.updated_at = utcnow()
    activity = await session.get(Activity, run.activity_id, with_for_update=True)
    if activity is not None and activity.status == "active":
        await activities_service.cancel_activity(session, activity, reason=reason)
    await session.flush()
    return run


def bookable_by(run: ProgrammeRun, school_ids: frozenset[uuid.UUID] | set[uuid.UUID]) -> bool:
    return not set(run.school_ids).isdisjoint(school_ids)
