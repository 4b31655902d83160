"""The demo trust (``make up`` and the test suite), read from ``trust.yaml``: fixed ids and
logins that every service's demo, the gateway's seeding and the tests share. Only the rules
that derive values (ids from keys, a person's trust, the Northfield staff logins) are code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cpd_common.auth import Principal
from cpd_common.demo import load_demo

_DATA: dict[str, Any] = load_demo("cpd_demo", "trust.yaml")

NAMESPACE = uuid.UUID(_DATA["namespace"])


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


OAKRIDGE = demo_id("trust", "oakridge")
NORTHFIELD = demo_id("school", "northfield")
SOUTHBANK = demo_id("school", "southbank")
# A second trust, so every demo and test can check tenant isolation.
RIVERSIDE = demo_id("trust", "riverside")
RIVERSIDE_HIGH = demo_id("school", "riverside-high")

TRUSTS = [{"id": demo_id("trust", t["key"]), "name": t["name"]} for t in _DATA["trusts"]]
SCHOOLS = [
    {
        "id": demo_id("school", s["key"]),
        "trust_id": demo_id("trust", s["trust"]),
        "name": s["name"],
        "phase": s["phase"],
    }
    for s in _DATA["schools"]
]
_TRUST_OF_SCHOOL = {s["id"]: s["trust_id"] for s in SCHOOLS}
_DEFAULT_START = date.fromisoformat(_DATA["default_start_date"])
NORTHFIELD_STAFF_PASSWORD: str = _DATA["northfield_staff_password"]


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    trust_id: uuid.UUID
    school_ids: tuple[uuid.UUID, ...]
    staff_group: str
    department: str | None
    career_stage: str
    roles: tuple[str, ...] = ("staff",)
    fte: float = 1.0
    start_date: date = _DEFAULT_START
    email: str | None = None
    password: str | None = None
    line_manager: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> uuid.UUID:
        return demo_id("person", self.key)

    def principal(self) -> Principal:
        """Who the demo content is written as: this person signed in, as their token says."""
        return Principal(
            sub=f"person:{self.id}",
            trust_id=self.trust_id,
            school_ids=frozenset(self.school_ids),
            roles=frozenset(self.roles),
            person_id=self.id,
        )


def _person(row: dict[str, Any]) -> DemoPerson:
    school_ids = tuple(demo_id("school", s) for s in row["schools"])
    email, password = row.get("email"), row.get("password")
    roles = tuple(row.get("roles", ["staff"]))
    if email is None and NORTHFIELD in school_ids and "staff" in roles:
        # Every other member of Northfield staff: first.last@northfield.example.
        first, _, last = row["name"].lower().partition(" ")
        email, password = f"{first}.{last}@northfield.example", NORTHFIELD_STAFF_PASSWORD
    return DemoPerson(
        key=row["key"],
        name=row["name"],
        trust_id=_TRUST_OF_SCHOOL[school_ids[0]],
        school_ids=school_ids,
        staff_group=row["staff_group"],
        department=row["department"],
        career_stage=row["career_stage"],
        roles=roles,
        fte=float(row.get("fte", 1.0)),
        email=email,
        password=password,
        line_manager=row.get("line_manager"),
    )


PEOPLE: list[DemoPerson] = [_person(row) for row in _DATA["people"]]
PEOPLE_BY_KEY = {p.key: p for p in PEOPLE}


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    secret: str
    name: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]
    trust_id: uuid.UUID = OAKRIDGE


CLIENTS = [
    DemoClient(
        c["client_id"],
        c["secret"],
        c["name"],
        tuple(c["roles"]),
        tuple(c["scopes"]),
        demo_id("trust", c["trust"]),
    )
    for c in _DATA["clients"]
]

# What `make up` prints and the README lists.
DEMO_CREDENTIALS: dict[str, tuple[str, str]] = {
    label: (login, secret) for label, (login, secret) in _DATA["credentials"].items()
}


def principal_of(key: str) -> Principal:
    """The demo person ``key`` signed in."""
    return PEOPLE_BY_KEY[key].principal()


def days_ago(days: int) -> date:
    """Demo dates are relative to today, so the demo never goes stale."""
    return datetime.now(UTC).date() - timedelta(days=days)
