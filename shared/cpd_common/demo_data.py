"""The demo trust that ``make up`` and the test suite seed, shared by every service's demo:
fixed ids (UUIDv5) and fixed logins, so scripts, front-end developers and tests can rely on
them (also in the README)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date

NAMESPACE = uuid.UUID("7d6c1a52-3f0e-4d8b-9a41-2b5e6c0f9a11")


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


OAKRIDGE = demo_id("trust", "oakridge")
NORTHFIELD = demo_id("school", "northfield")
SOUTHBANK = demo_id("school", "southbank")
# A second trust, so every demo and test can check tenant isolation.
RIVERSIDE = demo_id("trust", "riverside")
RIVERSIDE_HIGH = demo_id("school", "riverside-high")

TRUSTS = [
    {"id": OAKRIDGE, "name": "Oakridge Learning Trust"},
    {"id": RIVERSIDE, "name": "Riverside Schools Trust"},
]
SCHOOLS = [
    {"id": NORTHFIELD, "trust_id": OAKRIDGE, "name": "Northfield Primary", "phase": "primary"},
    {"id": SOUTHBANK, "trust_id": OAKRIDGE, "name": "Southbank Academy", "phase": "secondary"},
    {"id": RIVERSIDE_HIGH, "trust_id": RIVERSIDE, "name": "Riverside High", "phase": "secondary"},
]


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
    start_date: date = date(2019, 9, 1)
    email: str | None = None
    password: str | None = None
    line_manager: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> uuid.UUID:
        return demo_id("person", self.key)


def _p(
    key: str, name: str, school: uuid.UUID, group: str, dept: str | None, stage: str, **kw: object
) -> DemoPerson:
    trust = RIVERSIDE if school == RIVERSIDE_HIGH else OAKRIDGE
    return DemoPerson(key, name, trust, (school,), group, dept, stage, **kw)  # type: ignore[arg-type]


N, S = NORTHFIELD, SOUTHBANK
PEOPLE: list[DemoPerson] = [
    # Trust central team
    DemoPerson(
        "admin",
        "Alex Morgan",
        OAKRIDGE,
        (NORTHFIELD, SOUTHBANK),
        "leader",
        "Trust central team",
        "experienced",
        roles=("trust_admin", "staff"),
        email="admin@oakridge.example",
        password="oakridge-admin-2026",
    ),
    # Northfield Primary (16)
    _p(
        "n-head",
        "Priya Shah",
        N,
        "leader",
        "Senior leadership",
        "experienced",
        roles=("school_leader", "staff"),
        email="leader@northfield.example",
        password="northfield-leader-2026",
    ),
    _p(
        "n-deputy",
        "Tom Fletcher",
        N,
        "leader",
        "Senior leadership",
        "experienced",
        roles=("school_leader", "staff"),
        line_manager="n-head",
    ),
    _p(
        "n-t1",
        "Jess Okafor",
        N,
        "teacher",
        "KS2",
        "mid_career",
        email="teacher@northfield.example",
        password="northfield-teacher-2026",
        line_manager="n-deputy",
    ),
    _p("n-t2", "Sam Patel", N, "teacher", "KS2", "ect", line_manager="n-deputy"),
    _p("n-t3", "Hannah Lewis", N, "teacher", "KS1", "experienced", line_manager="n-deputy"),
    _p("n-t4", "Owen Price", N, "teacher", "KS1", "early_career", line_manager="n-deputy"),
    _p("n-t5", "Grace Kim", N, "teacher", "EYFS", "mid_career", line_manager="n-deputy"),
    _p("n-t6", "Daniel Reid", N, "teacher", "KS2", "experienced", line_manager="n-deputy"),
    _p("n-t7", "Chloe Adams", N, "teacher", "EYFS", "ect", line_manager="n-deputy"),
    _p("n-ta1", "Maria Santos", N, "teaching_assistant", "KS1", "experienced", fte=0.8),
    _p("n-ta2", "Lily Evans", N, "teaching_assistant", "KS2", "early_career", fte=0.6),
    _p("n-ta3", "Ben Carter", N, "teaching_assistant", "EYFS", "mid_career", fte=0.8),
    _p("n-s1", "Ruth Green", N, "support", "Office", "experienced"),
    _p("n-s2", "Mo Hussain", N, "support", "Site", "mid_career"),
    _p(
        "n-gov",
        "Peter Walsh",
        N,
        "governor",
        None,
        "experienced",
        roles=("governor",),
        email="governor@northfield.example",
        password="northfield-governor-2026",
        fte=0.0,
    ),
    # Southbank Academy (14)
    _p(
        "s-head",
        "Helen Brooks",
        S,
        "leader",
        "Senior leadership",
        "experienced",
        roles=("school_leader", "staff"),
    ),
    _p("s-t1", "Nadia Rahman", S, "teacher", "Maths", "mid_career", line_manager="s-head"),
    _p("s-t2", "Chris Walker", S, "teacher", "Maths", "ect", line_manager="s-t1"),
    _p("s-t3", "Emma Stone", S, "teacher", "English", "experienced", line_manager="s-head"),
    _p("s-t4", "Josh Bell", S, "teacher", "English", "early_career", line_manager="s-t3"),
    _p("s-t5", "Aisha Khan", S, "teacher", "Science", "mid_career", line_manager="s-head"),
    _p("s-t6", "Leo Murphy", S, "teacher", "Science", "ect", line_manager="s-t5"),
    _p("s-t7", "Sophie Turner", S, "teacher", "Humanities", "experienced", line_manager="s-head"),
    _p("s-t8", "Ravi Nair", S, "teacher", "Maths", "early_career", line_manager="s-t1"),
    _p("s-ta1", "Kate Doyle", S, "teaching_assistant", "SEND", "mid_career", fte=0.8),
    _p("s-ta2", "Ian Ford", S, "teaching_assistant", "SEND", "early_career"),
    _p("s-s1", "Zara Ali", S, "support", "Office", "mid_career"),
    _p("s-s2", "Paul Young", S, "support", "IT", "experienced"),
    _p("s-gov", "Diane Webb", S, "governor", None, "experienced", roles=("governor",), fte=0.0),
    # Riverside Schools Trust: another tenant
    _p(
        "r-admin",
        "Rita Olsen",
        RIVERSIDE_HIGH,
        "leader",
        "Trust central team",
        "experienced",
        roles=("trust_admin", "staff"),
        email="admin@riverside.example",
        password="riverside-admin-2026",
    ),
    _p("r-t1", "Victor Lane", RIVERSIDE_HIGH, "teacher", "Maths", "mid_career"),
]

# Every other member of staff at Northfield can sign in too, so that one school has enough
# respondents to try an anonymous audit end to end: first.last@northfield.example (lower case),
# all with the same password.
NORTHFIELD_STAFF_PASSWORD = "northfield-staff-2026"


def _with_staff_login(p: DemoPerson) -> DemoPerson:
    if p.email or NORTHFIELD not in p.school_ids or "staff" not in p.roles:
        return p
    first, _, last = p.name.lower().partition(" ")
    return replace(
        p, email=f"{first}.{last}@northfield.example", password=NORTHFIELD_STAFF_PASSWORD
    )


PEOPLE = [_with_staff_login(p) for p in PEOPLE]
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
        "demo-qa",
        "demo-qa-secret-2026",
        "Quality assurance reader",
        ("qa_reader",),
        ("metrics:read",),
    ),
    DemoClient(
        "demo-hr", "demo-hr-secret-2026", "HR system (SCIM)", ("hr_integration",), ("scim",)
    ),
]

# What `make up` prints and the README lists.
DEMO_CREDENTIALS = {
    "trust admin": ("admin@oakridge.example", "oakridge-admin-2026"),
    "school leader (Northfield)": ("leader@northfield.example", "northfield-leader-2026"),
    "teacher (Northfield)": ("teacher@northfield.example", "northfield-teacher-2026"),
    "governor (Northfield)": ("governor@northfield.example", "northfield-governor-2026"),
    "trust admin (Riverside, another tenant)": ("admin@riverside.example", "riverside-admin-2026"),
    "QA API client": ("demo-qa", "demo-qa-secret-2026"),
    "HR API client": ("demo-hr", "demo-hr-secret-2026"),
}
