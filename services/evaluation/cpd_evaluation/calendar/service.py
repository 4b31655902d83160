"""The CPD calendar: sessions of the trust's published runs (timed, in Europe/London) and,
for a person, the sessions of activities they take part in (by date).

Scopes: ``me`` (what the person is booked on or takes part in), ``school`` (runs open to a
school's staff) and ``trust`` (every published run). The iCalendar feed carries the same
entries, generated with the ``icalendar`` library (VTIMEZONE for Europe/London included, so
daylight-saving changes land right in every client). Calendar clients cannot send bearer
tokens: each person gets a secret feed token (stored only as its SHA-256), which they can
rotate or revoke; a feed read acts as that person, with the access they have now.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar as ICalendar
from icalendar import Event as IEvent
from icalendar import Timezone as ITimezone
from sqlalchemy import and_, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.db import utcnow
from cpd_common.errors import NotFound, Unprocessable
from cpd_evaluation.calendar.schemas import Calendar, CalendarEntry, FeedUrls, Scope
from cpd_evaluation.models import Activity, ActivitySession, Participant, Person, School
from cpd_evaluation.models.offer import CalendarFeed, Programme, ProgrammeRun, RunSession

LONDON = ZoneInfo("Europe/London")
UID_DOMAIN = "cpd.example"
FEED_PREFIX = "/v1/calendar/feeds"
FEED_PAST_DAYS = 120
# Europe/London as recurrence rules (last Sunday of March and of October), the form every
# calendar client reads; a list of dated transitions (what icalendar derives from zoneinfo)
# stops in 2037 and is misread by some parsers.
LONDON_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/London
BEGIN:DAYLIGHT
TZNAME:BST
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
DTSTART:19700329T010000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZNAME:GMT
TZOFFSETFROM:+0100
TZOFFSETTO:+0000
DTSTART:19701025T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""
FEED_AHEAD_DAYS = 730


class FeedNotFound(NotFound):
    code, title = "calendar-feed-not-found", "No such calendar feed"


class CalendarSchoolNotFound(NotFound):
    code, title = "school-not-found", "School not found"


def _window(start: date | None, end: date | None) -> tuple[date, date]:
    today = utcnow().date()
    start = start or today - timedelta(days=31)
    end = end or start + timedelta(days=366)
    if end < start or (end - start).days > 800:
        raise Unprocessable(
            "to is on or after from, at most about two years later.",
            errors=[{"loc": "query.to", "msg": "bad date range"}],
        )
    return start, end


async def entries(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID,
    person_id: uuid.UUID | None,
    scope: Scope,
    school_ids: set[uuid.UUID] | None,
    start: date,
    end: date,
) -> list[CalendarEntry]:
    """``school_ids`` limits ``school``/``trust`` scopes (None: every school of the trust)."""
    lo = datetime.combine(start, datetime.min.time(), LONDON)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), LONDON)
    mine = (
        select(Participant.activity_id).where(Participant.person_id == person_id)
        if person_id is not None
        else None
    )
    stmt = (
        select(RunSession, ProgrammeRun, Programme.title)
        .join(ProgrammeRun, ProgrammeRun.id == RunSession.run_id)
        .join(Programme, Programme.id == ProgrammeRun.programme_id)
        .where(
            RunSession.trust_id == trust_id,
            ProgrammeRun.status == "published",
            RunSession.starts_at >= lo,
            RunSession.starts_at < hi,
        )
    )
    if scope == "me":
        assert mine is not None
        stmt = stmt.where(ProgrammeRun.activity_id.in_(mine))
    elif school_ids is not None:
        stmt = stmt.where(ProgrammeRun.school_ids.overlap(list(school_ids) or [uuid.UUID(int=0)]))
    booked: set[uuid.UUID] = set()
    if mine is not None:
        booked = set((await session.scalars(mine)).all())
    out: list[CalendarEntry] = []
    for s, run, title in await session.execute(stmt):
        out.append(
            CalendarEntry(
                uid=f"run-session-{s.id}@{UID_DOMAIN}",
                title=(s.title and f"{title}: {s.title}") or title,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                on=s.starts_at.astimezone(LONDON).date(),
                all_day=False,
                place=s.place,
                link=s.link,
                programme_id=run.programme_id,
                run_id=run.id,
                activity_id=run.activity_id,
                places_left=run.capacity - run.places_booked,
                booked=run.activity_id in booked,
            )
        )
    if scope == "me" and mine is not None:
        runs = select(ProgrammeRun.activity_id).where(ProgrammeRun.trust_id == trust_id)
        for a_session, activity_title in await session.execute(
            select(ActivitySession, Activity.title)
            .join(Activity, Activity.id == ActivitySession.activity_id)
            .where(
                ActivitySession.trust_id == trust_id,
                Activity.status == "active",
                ActivitySession.activity_id.in_(mine),
                ~ActivitySession.activity_id.in_(runs),
                ActivitySession.held_on.between(start, end),
            )
        ):
            out.append(
                CalendarEntry(
                    uid=f"activity-session-{a_session.id}@{UID_DOMAIN}",
                    title=(a_session.title and f"{activity_title}: {a_session.title}")
                    or activity_title,
                    starts_at=None,
                    ends_at=None,
                    on=a_session.held_on,
                    all_day=True,
                    activity_id=a_session.activity_id,
                    booked=True,
                )
            )
    out.sort(key=lambda e: (e.on, e.starts_at or datetime.min.replace(tzinfo=UTC), e.uid))
    return out


async def _school_scope(
    session: AsyncSession,
    *,
    trust_id: uuid.UUID,
    is_admin: bool,
    own_schools: set[uuid.UUID],
    scope: Scope,
    school_id: uuid.UUID | None,
) -> set[uuid.UUID] | None:
    if scope == "school":
        if school_id is None:
            raise Unprocessable(
                "A school calendar names its school.",
                errors=[{"loc": "query.school_id", "msg": "required for scope=school"}],
            )
        known = await session.scalar(
            select(School.id).where(School.id == school_id, School.trust_id == trust_id)
        )
        if known is None or (not is_admin and school_id not in own_schools):
            raise CalendarSchoolNotFound()
        return {school_id}
    # "trust": the trust's whole offer is open to every member of staff; "me" is by person.
    return None


async def calendar_for(
    session: AsyncSession,
    principal: Principal,
    *,
    scope: Scope,
    school_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
) -> Calendar:
    lo, hi = _window(start, end)
    schools = await _school_scope(
        session,
        trust_id=principal.trust_id,
        is_admin=principal.is_trust_admin,
        own_schools=set(principal.school_ids),
        scope=scope,
        school_id=school_id,
    )
    return Calendar(
        scope=scope,
        school_id=school_id,
        entries=await entries(
            session,
            trust_id=principal.trust_id,
            person_id=principal.person_id,
            scope=scope,
            school_ids=schools,
            start=lo,
            end=hi,
        ),
    )


def to_ical(name: str, items: list[CalendarEntry], *, now: datetime | None = None) -> bytes:
    cal = ICalendar()
    cal.add("prodid", "-//CPD platform//CPD calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/London")
    cal.add_component(ITimezone.from_ical(LONDON_VTIMEZONE))
    stamp = now or utcnow()
    for item in items:
        event = IEvent()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("summary", item.title)
        if item.all_day:
            event.add("dtstart", item.on)
            event.add("dtend", item.on + timedelta(days=1))
        else:
            assert item.starts_at is not None and item.ends_at is not None
            event.add("dtstart", item.starts_at.astimezone(LONDON))
            event.add("dtend", item.ends_at.astimezone(LONDON))
        if item.place:
            event.add("location", item.place)
        if item.link:
            event.add("url", item.link)
        cal.add_component(event)
    return bytes(cal.to_ical())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def rotate_feed(session: AsyncSession, principal: Principal) -> FeedUrls:
    if principal.person_id is None:
        raise Unprocessable("Calendar feeds are for people.")
    token = secrets.token_urlsafe(32)
    stmt = insert(CalendarFeed).values(
        person_id=principal.person_id,
        trust_id=principal.trust_id,
        token_hash=_digest(token),
        created_at=utcnow(),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["person_id"],
            set_={"token_hash": stmt.excluded.token_hash, "created_at": stmt.excluded.created_at},
        )
    )
    schools_q = select(School.id).where(School.trust_id == principal.trust_id)
    if not principal.is_trust_admin:
        schools_q = schools_q.where(School.id.in_(list(principal.school_ids) or [uuid.UUID(int=0)]))
    schools = sorted((await session.scalars(schools_q)).all())
    base = f"{FEED_PREFIX}/{token}"
    return FeedUrls(
        token=token,
        me=f"{base}/me.ics",
        trust=f"{base}/trust.ics",
        schools={str(s): f"{base}/schools/{s}.ics" for s in schools},
    )


async def revoke_feed(session: AsyncSession, principal: Principal) -> None:
    if principal.person_id is not None:
        await session.execute(
            delete(CalendarFeed).where(CalendarFeed.person_id == principal.person_id)
        )


async def feed(
    session: AsyncSession, token: str, *, scope: Scope, school_id: uuid.UUID | None
) -> bytes:
    """The feed of whoever owns ``token``, with the access they have now (404 for an unknown,
    rotated or revoked token, or a person no longer active)."""
    if len(token) > 100:
        raise FeedNotFound()
    row = (
        await session.execute(
            select(CalendarFeed, Person)
            .join(
                Person,
                and_(Person.id == CalendarFeed.person_id, Person.trust_id == CalendarFeed.trust_id),
            )
            .where(CalendarFeed.token_hash == _digest(token), Person.active)
        )
    ).first()
    if row is None:
        raise FeedNotFound()
    owner: Any = row.Person
    schools = await _school_scope(
        session,
        trust_id=owner.trust_id,
        is_admin="trust_admin" in (owner.roles or []),
        own_schools=set(owner.school_ids or []),
        scope=scope,
        school_id=school_id,
    )
    # Calendar clients poll one address: a term back and two years ahead.
    today = utcnow().date()
    start, end = today - timedelta(days=FEED_PAST_DAYS), today + timedelta(days=FEED_AHEAD_DAYS)
    items = await entries(
        session,
        trust_id=owner.trust_id,
        person_id=owner.id,
        scope=scope,
        school_ids=schools,
        start=start,
        end=end,
    )
    names = {"me": "My CPD", "school": "School CPD", "trust": "Trust CPD offer"}
    return to_ical(names[scope], items)
