"""The lessonstudy and evaluation services' rows of a synthetic trust (see
:mod:`cpd_local.scale_data`)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cpd_local.scale_data import (
    COURSE_KINDS,
    STUDY_STATUSES,
    SUBJECTS,
    Rows,
    Shape,
    Table,
    _Person,
    school_ids,
    trust_id,
    uid,
)


def lesson_studies(
    t: int, shape: Shape, people: list[_Person], rng: random.Random, year0: datetime
) -> dict[str, Table]:
    """Two lesson studies per school, each with four members of its staff."""
    tid = trust_id(t)
    schools = school_ids(t, shape)
    by_school: dict[int, list[_Person]] = {}
    for p in people:
        by_school.setdefault(p.school, []).append(p)
    studies: Rows = []
    members: Rows = []
    for s in range(shape.schools):
        staff = by_school.get(s, [])
        for k in range(2):
            sid = uid("lesson-study", t, s, k)
            at = year0 + timedelta(days=20 + 60 * k + s % 30, minutes=s)
            status = rng.choice(STUDY_STATUSES)
            started = at + timedelta(days=7) if status != "planning" else None
            studies.append(
                (
                    sid,
                    tid,
                    f"Lesson study {s:02d}-{k + 1}",
                    [schools[s]],
                    rng.choice(SUBJECTS),
                    f"Year {rng.randrange(1, 12)}",
                    "Pupils explain their reasoning in writing.",
                    3,
                    status,
                    staff[0].id if staff else None,
                    started,
                    at,
                    at + timedelta(days=rng.randrange(1, 90)),
                )
            )
            for m, p in enumerate(staff[k * 4 : (k + 1) * 4] or staff[:4]):
                members.append(
                    (
                        uid("study-member", t, s, k, m),
                        tid,
                        sid,
                        p.id,
                        "facilitator" if m == 0 else "teacher",
                        False,
                        at,
                        at,
                    )
                )
    return {
        "lesson_studies": (
            (
                "id",
                "trust_id",
                "title",
                "school_ids",
                "subject",
                "year_group",
                "learning_goal",
                "planned_cycles",
                "status",
                "created_by",
                "started_at",
                "created_at",
                "updated_at",
            ),
            studies,
        ),
        "study_members": (
            (
                "id",
                "trust_id",
                "study_id",
                "person_id",
                "role",
                "former_member",
                "created_at",
                "updated_at",
            ),
            members,
        ),
    }


ACTIVITY_COLUMNS = (
    "id",
    "trust_id",
    "title",
    "kind",
    "status",
    "school_ids",
    "subject_specific",
    "subject",
    "fees",
    "materials_cost",
    "supply_cover_cost",
    "release_time_hours",
    "source",
    "starts_on",
    "ends_on",
    "created_by",
    "created_at",
    "updated_at",
)


def activities(
    t: int, shape: Shape, people: list[_Person], rng: random.Random, year0: datetime
) -> dict[str, Table]:
    """Five INSET days per school for all its staff, and three or four courses (coaching,
    conferences ...) per member of staff, each with one to three sessions three weeks apart
    and its attendance: about 10,700 activities for a 3,000-staff trust."""
    tid = trust_id(t)
    schools = school_ids(t, shape)
    admin = people[0].id
    start = year0.date()
    acts: Rows = []
    sessions: Rows = []
    parts: Rows = []
    attendance: Rows = []
    by_school: dict[int, list[_Person]] = {}
    for p in people:
        by_school.setdefault(p.school, []).append(p)

    def activity(
        key: str,
        title: str,
        kind: str,
        school: uuid.UUID,
        day: date,
        n_sessions: int,
        minutes: int,
        who: list[_Person],
    ) -> None:
        aid = uid("activity", t, key)
        subject = rng.choice(SUBJECTS) if rng.random() < 0.5 else None
        created = datetime.combine(
            day - timedelta(days=14), datetime.min.time(), tzinfo=UTC
        ) + timedelta(seconds=rng.randrange(86400))
        updated = created + timedelta(seconds=rng.randrange(3 * 86400))
        days = [day + timedelta(weeks=3 * k) for k in range(n_sessions)]
        acts.append(
            (
                aid,
                tid,
                title,
                kind,
                "active",
                [school],
                subject is not None,
                subject,
                Decimal(rng.randrange(0, 400)),
                Decimal(0),
                Decimal(0),
                Decimal(0),
                "manual",
                days[0],
                days[-1],
                admin,
                created,
                updated,
            )
        )
        session_ids = []
        for k, held in enumerate(days):
            sid = uid("session", t, key, k)
            session_ids.append(sid)
            sessions.append((sid, tid, aid, f"Session {k + 1}", held, minutes))
        for p in who:
            pid = uid("participant", t, key, p.id)
            parts.append((pid, tid, aid, p.id, "participant", "manual", False, created, updated))
            for sid in session_ids:
                attendance.append((tid, pid, sid, rng.random() < 0.9))

    for s in range(shape.schools):
        for d in range(5):
            day = start + timedelta(days=2 + d * 70 + s % 5)
            activity(
                f"inset-{s}-{d}",
                f"INSET day {d + 1}",
                "inset",
                schools[s],
                day,
                1,
                360,
                by_school.get(s, []),
            )
    for i, p in enumerate(people):
        for c in range(3 + i % 2):
            day = start + timedelta(days=rng.randrange(330))
            activity(
                f"course-{i}-{c}",
                f"Course {c + 1}",
                rng.choice(COURSE_KINDS),
                schools[p.school],
                day,
                rng.randrange(1, 4),
                rng.choice((60, 90, 180)),
                [p],
            )
    return {
        "activities": (ACTIVITY_COLUMNS, acts),
        "activity_sessions": (
            ("id", "trust_id", "activity_id", "title", "held_on", "duration_minutes"),
            sessions,
        ),
        "participants": (
            (
                "id",
                "trust_id",
                "activity_id",
                "person_id",
                "role",
                "source",
                "former_participant",
                "created_at",
                "updated_at",
            ),
            parts,
        ),
        "attendance": (("trust_id", "participant_id", "session_id", "attended"), attendance),
    }
