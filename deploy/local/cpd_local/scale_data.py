"""Synthetic, deterministic trusts for ``cpd seed --scale N`` (issue 11, "Scale").

:func:`trust_rows` builds every row of one trust for every service's database, as
``{database: {table: (columns, rows)}}``, from the trust's number alone: ids are UUIDs made
from a hash of what they name (``uid("person", 3, 17)``), other values come from a
``random.Random`` seeded with the trust's number, so trust 3 is the same trust whether it is
seeded alone or with nine others, and ``N=10`` is ``N=1`` plus trusts 2 to 10.

One trust (``Shape``): 50 schools, 3,000 staff (one trust admin, a leader per school),
a year of audits (three termly audits per school and a trust-wide one, with their frozen
audiences, participations and anonymous responses of eight answers each), needs at the three
levels, a CPD plan per school with its rows, two lesson studies per school with their
members, and the evaluation service's activities (INSET days for whole schools, courses for
one person), sessions, participants and attendance, which CPD records and dashboards read.
The first trust can also carry three "volume" audits of 1,000, 10,000 and 100,000 responses
(``volume_audits``): the audit results benchmark. Their responses are more than the trust has
staff, so they have no frozen audience or participations: responses are anonymous rows that
share nothing with either, so results never read those tables.

Projections (each domain service's ``people`` and ``schools``, the evaluation service's
``needs``) are written with the same values the directory (gateway) holds, as the events would
have made them. No event goes through NATS or any outbox.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

Rows = list[tuple[Any, ...]]
Table = tuple[tuple[str, ...], Rows]

PASSWORD = "scale-admin-2026"  # every seeded trust admin's password (synthetic data only)
QA_SECRET = "scale-qa-secret-2026"  # every seeded QA client's secret
ITEMS = 8  # answers per response
VOLUME_AUDITS = (1_000, 10_000, 100_000)

FIRST = (
    "Alex Sam Jo Robin Kit Ash Drew Jamie Morgan Taylor Casey Jordan Riley Avery Quinn Rowan "
    "Sky Harper Reese Emery Finley Hayden Logan Parker Sage Blake Cameron Dale Ellis Frankie"
).split()
LAST = (
    "Abbott Barker Carver Dalton Ellison Fairley Garner Holt Ingram Jarvis Keane Lowry Marsh "
    "Norris Oakes Pryce Quill Radley Sutton Thorne Upton Vance Walsh Yardley Ashdown Brook "
    "Colby Denton Easton Fulton"
).split()
DEPARTMENTS = ("English", "Maths", "Science", "Humanities", "Arts", "PE", "EYFS", "SEND")
SUBJECTS = ("English", "Maths", "Science", "History", "Geography", "Art", "Music", "PE")
CAREER = ("ect", "early_career", "mid_career", "experienced")
NEED_TYPES = ("knowledge", "skills", "attitudes")
PRIORITIES = ("high", "medium", "low")
NEED_STATUSES = ("identified", "planned", "in_progress", "met")
STUDY_STATUSES = ("planning", "in_cycle", "findings", "completed")
COURSE_KINDS = ("course", "online_course", "conference", "coaching", "mentoring")
FUNDING = ("cpd_budget", "pupil_premium", "trust_central", "grant")


def uid(*parts: object) -> uuid.UUID:
    """A UUID (version 4 layout, no time in it) named by ``parts``: the same on every run."""
    digest = hashlib.md5(  # noqa: S324 - a name, not a secret
        ":".join(["cpd-scale", *map(str, parts)]).encode()
    ).digest()
    return uuid.UUID(bytes=digest, version=4)


@dataclass(frozen=True)
class Shape:
    """How big one trust is (``cpd seed --scale 0.01`` shrinks it, ``--schools`` and
    ``--staff`` set it outright)."""

    schools: int = 50
    staff: int = 3000

    @classmethod
    def scaled(cls, scale: float) -> Shape:
        if scale >= 1:
            return cls()
        return cls(schools=max(2, round(50 * scale)), staff=max(20, round(3000 * scale)))


def academic_year_start(today: date | None = None) -> int:
    today = today or datetime.now(UTC).date()
    return today.year if today.month >= 9 else today.year - 1


@dataclass
class _Person:
    id: uuid.UUID
    school: int
    school_ids: list[uuid.UUID]
    name: str
    staff_group: str
    department: str
    career_stage: str
    fte: float
    start_date: date
    roles: list[str]
    updated_at: datetime

    @property
    def leadership(self) -> str:
        leader = self.staff_group == "leader" or bool(
            {"school_leader", "trust_admin"} & set(self.roles)
        )
        return "leader" if leader else "staff"


def admin_email(t: int) -> str:
    return f"admin@scale{t:03d}.example"


def qa_client_id(t: int) -> str:
    return f"scale-qa-{t:03d}"


def trust_id(t: int) -> uuid.UUID:
    return uid("trust", t)


def school_ids(t: int, shape: Shape) -> list[uuid.UUID]:
    return [uid("school", t, s) for s in range(shape.schools)]


def _people(t: int, shape: Shape, rng: random.Random, year0: datetime) -> list[_Person]:
    schools = school_ids(t, shape)
    people = []
    for i in range(shape.staff):
        s = i % shape.schools
        own = [schools[s]]
        if i % 97 == 5 and shape.schools > 1:  # a few work in two schools
            own.append(schools[(s + 1) % shape.schools])
        roles = ["staff"]
        if i == 0:
            roles = ["trust_admin", "staff"]
        elif i < shape.schools * 2 and i % 2 == 1:  # one leader per school
            roles = ["school_leader", "staff"]
        group = rng.choices(("teacher", "teaching_assistant", "support"), (70, 18, 12))[0]
        if "school_leader" in roles or i == 0:
            group = "leader"
        people.append(
            _Person(
                id=uid("person", t, i),
                school=s,
                school_ids=own,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                staff_group=group,
                department=rng.choice(DEPARTMENTS),
                career_stage=rng.choice(CAREER),
                fte=rng.choice((1.0, 1.0, 1.0, 0.8, 0.6, 0.5)),
                start_date=date(2010, 1, 1) + timedelta(days=rng.randrange(5400)),
                roles=roles,
                # Spread over the year (a clock-like sync order), one second apart at least.
                updated_at=year0 + timedelta(seconds=i * 97 + rng.randrange(90)),
            )
        )
    return people


def _directory(
    t: int, shape: Shape, people: list[_Person], year0: datetime, secrets: dict[str, str]
) -> dict[str, Table]:
    tid = trust_id(t)
    schools = school_ids(t, shape)
    school_rows = [
        (
            sid,
            tid,
            f"Scale School {t:03d}-{s:02d}",
            "primary" if s % 3 else "secondary",
            f"9{t:02d}{s:03d}",
            year0,
            year0,
        )
        for s, sid in enumerate(schools)
    ]
    person_rows = []
    for i, p in enumerate(people):
        email = admin_email(t) if i == 0 else f"staff{i:05d}@scale{t:03d}.example"
        first, last = p.name.split(" ", 1)
        person_rows.append(
            (
                p.id,
                tid,
                p.name,
                email,
                p.school_ids,
                p.staff_group,
                p.department,
                p.career_stage,
                p.fte,
                p.start_date,
                None,
                p.roles,
                True,
                f"S{t:03d}-{i:05d}",
                first,
                last,
                year0,
                p.updated_at,
            )
        )
    return {
        "trusts": (
            ("id", "name", "created_at", "updated_at"),
            [(tid, f"Scale Trust {t:03d}", year0, year0)],
        ),
        "schools": (
            ("id", "trust_id", "name", "phase", "urn", "created_at", "updated_at"),
            school_rows,
        ),
        "people": (
            (
                "id",
                "trust_id",
                "name",
                "email",
                "school_ids",
                "staff_group",
                "department",
                "career_stage",
                "fte",
                "start_date",
                "line_manager_id",
                "roles",
                "active",
                "external_id",
                "given_name",
                "family_name",
                "created_at",
                "updated_at",
            ),
            person_rows,
        ),
        "accounts": (
            ("person_id", "email", "password_hash", "created_at"),
            [(people[0].id, admin_email(t), secrets["password"], year0)],
        ),
        "api_clients": (
            (
                "id",
                "trust_id",
                "client_id",
                "name",
                "secret_hash",
                "roles",
                "scopes",
                "active",
                "created_at",
                "updated_at",
            ),
            [
                (
                    uid("client", t),
                    tid,
                    qa_client_id(t),
                    "Scale QA reader",
                    secrets["qa"],
                    ["qa_reader"],
                    ["metrics:read"],
                    True,
                    year0,
                    year0,
                )
            ],
        ),
    }


def projection(t: int, shape: Shape, people: list[_Person], year0: datetime) -> dict[str, Table]:
    """The directory as each domain service's projection holds it."""
    tid = trust_id(t)
    return {
        "schools": (
            ("id", "trust_id", "name", "phase", "updated_at"),
            [
                (
                    sid,
                    tid,
                    f"Scale School {t:03d}-{s:02d}",
                    "primary" if s % 3 else "secondary",
                    year0,
                )
                for s, sid in enumerate(school_ids(t, shape))
            ],
        ),
        "people": (
            (
                "id",
                "trust_id",
                "school_ids",
                "name",
                "staff_group",
                "department",
                "career_stage",
                "fte",
                "start_date",
                "line_manager_id",
                "roles",
                "active",
                "updated_at",
            ),
            [
                (
                    p.id,
                    tid,
                    p.school_ids,
                    p.name,
                    p.staff_group,
                    p.department,
                    p.career_stage,
                    p.fte,
                    p.start_date,
                    None,
                    p.roles,
                    True,
                    p.updated_at,
                )
                for p in people
            ],
        ),
    }
