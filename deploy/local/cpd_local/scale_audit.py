"""The audit service's rows of a synthetic trust (see :mod:`cpd_local.scale_data`).

A year of audits under the anonymity model of DESIGN.md section 7: an audit's frozen audience
and its participations name people; its responses do not. A response is a random id, the day
it was sent and the respondent's coarse attributes, written in an order unrelated to the
participations, and nothing joins the two.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cpd_local.scale_data import (
    FUNDING,
    ITEMS,
    NEED_STATUSES,
    NEED_TYPES,
    PRIORITIES,
    VOLUME_AUDITS,
    Rows,
    Shape,
    Table,
    _Person,
    school_ids,
    trust_id,
    uid,
)

AUDIT_COLUMNS = (
    "id",
    "trust_id",
    "instrument_version_id",
    "title",
    "description",
    "status",
    "scope_kind",
    "school_ids",
    "audience_groups",
    "min_group_size",
    "opens_on",
    "closes_on",
    "opened_at",
    "closed_at",
    "audience_size",
    "created_by",
    "created_at",
    "updated_at",
)
RESPONSE_COLUMNS = (
    "id",
    "audit_id",
    "trust_id",
    "school_id",
    "staff_group",
    "department",
    "career_stage",
    "leadership",
    "submitted_on",
)
ANSWER_COLUMNS = ("response_id", "item_key", "audit_id", "score", "dont_know")
ITEM_KEYS = tuple(f"{1 + i // 4}{'abcd'[i % 4]}" for i in range(ITEMS))
GROUPS = ["teacher", "teaching_assistant", "support", "leader"]


def instrument(t: int, year0: datetime) -> dict[str, Table]:
    tid = trust_id(t)
    items = [
        {
            "key": k,
            "section": k[0],
            "type": "agreement",
            "text": f"Statement {k} about professional learning here.",
            "required": True,
            "points": 5,
            "dont_know": True,
            "comment": False,
        }
        for k in ITEM_KEYS
    ]
    sections = [{"key": "1", "title": "Culture"}, {"key": "2", "title": "Practice"}]
    return {
        "instruments": (
            (
                "id",
                "trust_id",
                "key",
                "title",
                "description",
                "framework",
                "latest_version",
                "created_at",
                "updated_at",
            ),
            [
                (
                    uid("instrument", t),
                    tid,
                    "scale-pulse",
                    "Scale pulse survey",
                    "",
                    None,
                    1,
                    year0,
                    year0,
                )
            ],
        ),
        "instrument_versions": (
            (
                "id",
                "instrument_id",
                "trust_id",
                "version",
                "title",
                "description",
                "sections",
                "items",
                "created_at",
            ),
            [
                (
                    uid("instrument-version", t),
                    uid("instrument", t),
                    tid,
                    1,
                    "Scale pulse survey",
                    "",
                    json.dumps(sections),
                    json.dumps(items),
                    year0,
                )
            ],
        ),
    }


def _answers(
    rng: random.Random, response: uuid.UUID, audit: uuid.UUID, bias: int, out: Rows
) -> None:
    for k in ITEM_KEYS:
        if rng.random() < 0.05:
            out.append((response, k, audit, None, True))
        else:
            out.append((response, k, audit, min(5, max(1, bias + rng.randrange(-1, 2))), False))


def _audit_row(
    t: int,
    key: str,
    title: str,
    scope: str,
    schools: list[uuid.UUID],
    size: int,
    opens: date,
    creator: uuid.UUID,
    year0: datetime,
) -> tuple[Any, ...]:
    closes = opens + timedelta(days=21)
    at = datetime.combine(opens, datetime.min.time(), tzinfo=year0.tzinfo)
    done = at + timedelta(days=21)
    return (
        uid("audit", t, key),
        trust_id(t),
        uid("instrument-version", t),
        title,
        "",
        "closed",
        scope,
        schools,
        GROUPS,
        5,
        opens,
        closes,
        at,
        done,
        size,
        creator,
        at,
        done,
    )


def audits(
    t: int,
    shape: Shape,
    people: list[_Person],
    rng: random.Random,
    year0: datetime,
    *,
    volume: bool,
) -> dict[str, Table]:
    """Three termly audits per school, a trust-wide one, and (``volume``) the three volume
    audits; about four in five of each audience respond."""
    tid = trust_id(t)
    schools = school_ids(t, shape)
    admin = people[0].id
    by_school: dict[int, list[_Person]] = {}
    for p in people:
        by_school.setdefault(p.school, []).append(p)
    audit_rows: Rows = []
    audience: Rows = []
    participations: Rows = []
    responses: Rows = []
    answers: Rows = []
    start = year0.date()

    def run(
        key: str,
        title: str,
        scope: str,
        scope_schools: list[uuid.UUID],
        members: list[_Person],
        opens: date,
    ) -> None:
        audit_id = uid("audit", t, key)
        audit_rows.append(
            _audit_row(t, key, title, scope, scope_schools, len(members), opens, admin, year0)
        )
        respondents = [p for p in members if rng.random() < 0.8]
        for p in members:
            audience.append(
                (
                    audit_id,
                    p.id,
                    tid,
                    schools[p.school],
                    p.staff_group,
                    p.department,
                    p.career_stage,
                    p.leadership,
                )
            )
        batch = []
        for p in respondents:
            day = opens + timedelta(days=rng.randrange(21))
            participations.append((uid("participation", t, key, p.id), audit_id, tid, p.id, day))
            batch.append(
                (schools[p.school], p.staff_group, p.department, p.career_stage, p.leadership, day)
            )
        rng.shuffle(batch)  # responses in no order the participations could give away
        bias = rng.randrange(2, 5)
        for row in batch:
            rid = uuid.UUID(int=rng.getrandbits(128), version=4)
            responses.append((rid, audit_id, tid, *row))
            _answers(rng, rid, audit_id, bias, answers)

    for s in range(shape.schools):
        for term, offset in enumerate((30, 150, 270)):
            run(
                f"s{s}-{term}",
                f"Pulse {s:02d} term {term + 1}",
                "school",
                [schools[s]],
                by_school.get(s, []),
                start + timedelta(days=offset + s % 20),
            )
    run("trust", "Trust-wide pulse", "trust", [], people, start + timedelta(days=200))
    if volume:
        for n in VOLUME_AUDITS:
            key = f"volume-{n}"
            audit_id = uid("audit", t, key)
            audit_rows.append(
                _audit_row(
                    t,
                    key,
                    f"Volume audit of {n} responses",
                    "trust",
                    [],
                    n,
                    start + timedelta(days=240),
                    admin,
                    year0,
                )
            )
            for _ in range(n):
                p = people[rng.randrange(len(people))]  # attributes only: nobody is named
                rid = uuid.UUID(int=rng.getrandbits(128), version=4)
                responses.append(
                    (
                        rid,
                        audit_id,
                        tid,
                        schools[p.school],
                        p.staff_group,
                        p.department,
                        p.career_stage,
                        p.leadership,
                        start + timedelta(days=240 + rng.randrange(21)),
                    )
                )
                _answers(rng, rid, audit_id, 3, answers)
    return {
        "audits": (AUDIT_COLUMNS, audit_rows),
        "audit_audience": (
            (
                "audit_id",
                "person_id",
                "trust_id",
                "school_id",
                "staff_group",
                "department",
                "career_stage",
                "leadership",
            ),
            audience,
        ),
        "audit_participations": (
            ("id", "audit_id", "trust_id", "person_id", "responded_on"),
            participations,
        ),
        "audit_responses": (RESPONSE_COLUMNS, responses),
        "audit_answers": (ANSWER_COLUMNS, answers),
    }


def _month(year: int, r: int) -> date:
    """September, November, January ... of the academic year starting in ``year``."""
    month = (8 + 2 * r) % 12 + 1
    return date(year if month >= 9 else year + 1, month, 1)


NEED_COLUMNS = (
    "id",
    "trust_id",
    "school_id",
    "level",
    "team_kind",
    "team_name",
    "person_id",
    "title",
    "description",
    "need_types",
    "evidence",
    "priority",
    "status",
    "recorded_by",
    "created_at",
    "updated_at",
)


def needs(
    t: int, shape: Shape, people: list[_Person], rng: random.Random, year0: datetime
) -> tuple[dict[str, Table], Rows]:
    """Needs (three whole-school and two team needs per school, one individual need per
    member of staff), a CPD plan per school with six rows, and the evaluation service's
    projection of the needs."""
    tid = trust_id(t)
    schools = school_ids(t, shape)
    admin = people[0].id
    rows: Rows = []
    projected: Rows = []
    whole: dict[int, list[uuid.UUID]] = {}

    def add(
        key: str, s: int, level: str, team: str | None, person: uuid.UUID | None, title: str, n: int
    ) -> uuid.UUID:
        nid = uid("need", t, key)
        at = year0 + timedelta(hours=n * 2 + rng.randrange(2))
        types = sorted(rng.sample(NEED_TYPES, rng.randrange(1, 3)))
        priority = rng.choice(PRIORITIES)
        rows.append(
            (
                nid,
                tid,
                schools[s],
                level,
                "department" if team else None,
                team,
                person,
                title,
                "",
                types,
                "[]",
                priority,
                rng.choice(NEED_STATUSES),
                admin,
                at,
                at,
            )
        )
        projected.append((nid, tid, schools[s], level, types, priority, None, [], at))
        return nid

    n = 0
    for s in range(shape.schools):
        for k in range(3):
            whole.setdefault(s, []).append(
                add(f"w{s}-{k}", s, "whole_school", None, None, f"Whole-school need {k + 1}", n)
            )
            n += 1
        for k in range(2):
            add(f"t{s}-{k}", s, "team", ("Maths", "English")[k], None, f"Team need {k + 1}", n)
            n += 1
    for i, p in enumerate(people):
        add(f"i{i}", p.school, "individual", None, p.id, "Personal development need", n)
        n += 1
    year = year0.year
    plans: Rows = []
    plan_rows: Rows = []
    for s in range(shape.schools):
        pid = uid("cpd-plan", t, s)
        plans.append(
            (
                pid,
                tid,
                schools[s],
                year,
                f"CPD plan {year}-{(year + 1) % 100:02d}",
                "",
                year0,
                year0,
            )
        )
        for r in range(6):
            plan_rows.append(
                (
                    uid("cpd-plan-row", t, s, r),
                    tid,
                    pid,
                    whole[s][r % 3],
                    _month(year, r),
                    f"Planned activity {r + 1}",
                    "CPD lead",
                    None,
                    Decimal(rng.randrange(0, 2000)),
                    rng.choice(FUNDING),
                    "",
                    year0,
                    year0,
                )
            )
    audit_tables = {
        "needs": (NEED_COLUMNS, rows),
        "cpd_plans": (
            (
                "id",
                "trust_id",
                "school_id",
                "start_year",
                "title",
                "notes",
                "created_at",
                "updated_at",
            ),
            plans,
        ),
        "cpd_plan_rows": (
            (
                "id",
                "trust_id",
                "plan_id",
                "need_id",
                "month",
                "activity",
                "responsible",
                "responsible_person_id",
                "cost",
                "funding_source",
                "notes",
                "created_at",
                "updated_at",
            ),
            plan_rows,
        ),
    }
    return audit_tables, projected
