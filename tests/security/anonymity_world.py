"""Populations for the anonymity probes, made through the public API as a trust admin would:
people with the attributes breakdowns use, an audit they answer, and every published table
of its results read back. The probes know who answered what because they made it up; the
service is never asked."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from cpd_local.stack import Stack

DIMENSIONS = ("school", "staff_group", "department", "career_stage", "leadership")
TABLES: list[tuple[str, ...]] = [
    (),
    *((d,) for d in DIMENSIONS),
    *itertools.combinations(DIMENSIONS, 2),
]
GROUPS = ["teacher", "teaching_assistant", "support"]
INSTRUMENT = {
    "title": "Anonymity probe",
    "items": [
        {"key": "p", "type": "paired_scale", "text": "Coaching is valued."},
        {
            "key": "a",
            "type": "agreement",
            "required": False,
            "comment": True,
            "text": "CPD changes my teaching.",
        },
    ],
}


@dataclass
class Respondent:
    person_id: str
    attrs: dict[str, Any]  # school id (str), staff group, department, career stage, leadership
    answers: dict[str, Any]

    @property
    def atom(self) -> tuple[Any, ...]:
        return tuple(self.attrs[d] for d in DIMENSIONS)

    def counts_for(self, family: str) -> bool:
        """Whether this respondent is in a figure family: everyone, those who answered
        item a, those who gave it a score."""
        a = self.answers.get("a")
        if family == "respondents" or family.startswith("p:"):
            return True
        if family == "a:answered":
            return a is not None
        return a is not None and not a.get("dont_know")


@dataclass
class Audit:
    id: str
    k: int
    respondents: list[Respondent] = field(default_factory=list)


async def make_people(
    stack: Stack, admin: dict[str, str], schools: list[str], rows: list[tuple[Any, ...]]
) -> list[tuple[str, dict[str, Any]]]:
    """One person per row ``(school index, staff group, department, career stage,
    leadership)``; a leader is a school leader by role."""
    out = []
    for n, (school, group, department, stage, lead) in enumerate(rows):
        body = {
            "name": f"Probe Person {n} {uuid.uuid4().hex[:6]}",
            "school_ids": [schools[school]],
            "staff_group": group,
            "department": department,
            "career_stage": stage,
            "roles": ["staff", "school_leader"] if lead == "leader" else ["staff"],
        }
        resp = await stack.gateway.post("/v1/people", json=body, headers=admin)
        assert resp.status_code == 201, resp.text
        attrs = {
            "school": schools[school],
            "staff_group": group,
            "department": department,
            "career_stage": stage,
            "leadership": lead,
        }
        out.append((resp.json()["id"], attrs))
    await stack.settle()
    return out


def answers_for(n: int) -> dict[str, Any]:
    """Varied answers: a skips item a now and then, or says don't know."""
    out: dict[str, Any] = {"p": {"values": 1 + (n * 7) % 5, "practice": 1 + (n * 3) % 5}}
    if n % 7 == 3:
        out["a"] = {"dont_know": True}
    elif n % 11 != 5:
        out["a"] = {"score": 1 + (n * 5) % 5 if n % 2 else 1 + n % 5, "comment": f"note {n}"}
    return out


async def run_audit(
    stack: Stack,
    admin: dict[str, str],
    people: list[tuple[str, dict[str, Any]]],
    *,
    k: int = 5,
    title: str = "Anonymity probe",
    key: str | None = None,
    answers: Any = answers_for,
) -> Audit:
    """An instrument (once per key), a trust-wide audit of the probe's staff groups, every
    person answering, closed."""
    gw = stack.gateway
    key = key or f"probe-{uuid.uuid4().hex[:8]}"
    listed = await gw.get("/v1/instruments?limit=200", headers=admin)
    found = [i["id"] for i in listed.json()["items"] if i["key"] == key]
    if found:
        instrument_id = found[0]
    else:
        resp = await gw.post("/v1/instruments", json={**INSTRUMENT, "key": key}, headers=admin)
        assert resp.status_code == 201, resp.text
        instrument_id = resp.json()["id"]
    body = {
        "instrument_id": instrument_id,
        "title": title,
        "scope": {"kind": "trust"},
        "min_group_size": k,
        "audience": {"staff_groups": GROUPS},
    }
    resp = await gw.post("/v1/audits", json=body, headers=admin)
    assert resp.status_code == 201, resp.text
    audit = Audit(id=resp.json()["id"], k=k)
    assert (await gw.post(f"/v1/audits/{audit.id}/open", headers=admin)).status_code == 200
    for n, (person_id, attrs) in enumerate(people):
        given = answers(n)
        resp = await gw.post(
            f"/v1/audits/{audit.id}/responses",
            json={"answers": given},
            headers=await stack.headers_for(person_id),
        )
        assert resp.status_code == 201, resp.text
        audit.respondents.append(Respondent(person_id, attrs, given))
    assert (await gw.post(f"/v1/audits/{audit.id}/close", headers=admin)).status_code == 200
    return audit


async def every_table(
    stack: Stack, admin: dict[str, str], audit_id: str
) -> dict[tuple[str, ...], Any]:
    """Every table a trust admin can read: the whole audit and every one-way and two-way
    breakdown (16 reads), plus the response counts."""
    out: dict[tuple[str, ...], Any] = {}
    for dims in TABLES:
        url = f"/v1/audits/{audit_id}/results" + (f"?by={','.join(dims)}" if dims else "")
        resp = await stack.gateway.get(url, headers=admin)
        assert resp.status_code == 200, resp.text
        out[dims] = resp.json()
    resp = await stack.gateway.get(f"/v1/audits/{audit_id}/responses/counts", headers=admin)
    assert resp.status_code == 200, resp.text
    out[("counts",)] = resp.json()
    return out
