"""Audit rules users rely on, one rule per test: comments withheld from small audits, audits
scoped only to the caller's own trust's schools, suggested needs that stay inside the trust.

Written against closed audits, so they hold whatever an open audit shows."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from cpd_audit.models import Audit
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, RIVERSIDE, RIVERSIDE_HIGH, SOUTHBANK

REFLECTION = {
    "key": "reflection",
    "title": "Reflection on CPD",
    "sections": [{"key": "s1", "title": "Reflection"}],
    "items": [
        {
            "key": "q1",
            "section": "s1",
            "type": "agreement",
            "comment": True,
            "text": "The training changed how I plan lessons.",
        },
        {"key": "q2", "section": "s1", "type": "free_text", "text": "What would you change?"},
    ],
}


async def _closed_reflection_round(kit: Any, respondents: list[Any], *, k: int) -> dict[str, Any]:
    resp = await kit.gw.post("/v1/instruments", json=REFLECTION, headers=await kit.h("admin"))
    assert resp.status_code == 201, resp.text
    instrument = await kit.instrument_id("reflection")
    audit = await kit.create_audit(instrument_id=instrument, k=k, title=f"Reflection k={k}")
    await kit.transition(audit["id"], "open")
    for index, person in enumerate(respondents):
        await kit.respond(
            audit["id"],
            person.key,
            {
                "q1": {"score": 4, "comment": f"Planning note {index}"},
                "q2": {"text": f"Change idea {index}"},
            },
        )
    await kit.transition(audit["id"], "close")
    return audit


async def test_comments_are_withheld_when_fewer_than_min_group_size_responded(kit: Any) -> None:
    """Privacy: with fewer respondents than ``min_group_size``, no comment or free-text
    answer is released, to leaders or staff, even after the audit closes."""
    people = kit.people()[:4]
    audit = await _closed_reflection_round(kit, people, k=5)
    for reader in ("admin", people[0].key):
        results = await kit.results(audit["id"], as_=reader)
        for key in ("q1", "q2"):
            item = kit.item(results, key)
            assert not item["comments"], (
                f"{key}: comments of a 4-person audit with min_group_size 5 must be withheld "
                f"(seen by {reader}: {item['comments']})"
            )
    csv = await kit.gw.get(f"/v1/audits/{audit['id']}/results.csv", headers=await kit.h("admin"))
    assert csv.status_code == 200
    assert "Change idea" not in csv.text and "Planning note" not in csv.text


async def test_comments_appear_once_min_group_size_responded(kit: Any) -> None:
    """The other side of the threshold: exactly ``min_group_size`` respondents, every one
    commenting, releases every comment (alphabetical, without attributes)."""
    people = kit.people()[:5]
    audit = await _closed_reflection_round(kit, people, k=5)
    results = await kit.results(audit["id"])
    assert results["respondents"] == 5
    assert kit.item(results, "q1")["comments"] == [f"Planning note {i}" for i in range(5)]
    assert kit.item(results, "q2")["comments"] == [f"Change idea {i}" for i in range(5)]


async def _audit_count(kit: Any, trust_id: uuid.UUID) -> int:
    async with kit.stack.session("audit") as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Audit).where(Audit.trust_id == trust_id)
            )
            or 0
        )


async def test_another_trusts_admin_cannot_scope_an_audit_to_this_trusts_school(kit: Any) -> None:
    """Tenancy: a Riverside trust admin naming an Oakridge school in the scope gets the same
    answer as for a school that does not exist, and no audit is stored anywhere."""
    instrument = await kit.instrument_id("effective-cpd-principles")
    answers = {}
    for label, school in (("oakridge", NORTHFIELD), ("missing", uuid.uuid4())):
        resp = await kit.gw.post(
            "/v1/audits",
            json={
                "instrument_id": instrument,
                "title": "Cross-trust round",
                "scope": {"kind": "schools", "school_ids": [str(RIVERSIDE_HIGH), str(school)]},
            },
            headers=await kit.h("r-admin"),
        )
        assert resp.status_code == 422, f"{label}: {resp.status_code} {resp.text}"
        answers[label] = resp.json()["errors"]
    assert answers["oakridge"] == [{"loc": "body.scope.school_ids.1", "msg": "no such school"}]
    assert answers["oakridge"] == answers["missing"], "another trust's school must look unknown"
    assert await _audit_count(kit, RIVERSIDE) == 0
    assert await _audit_count(kit, OAKRIDGE) == 0
    # The same admin may scope an audit to their own school.
    own = await kit.create_audit(
        instrument_id=instrument,
        scope={"kind": "school", "school_ids": [str(RIVERSIDE_HIGH)]},
        as_="r-admin",
    )
    assert own["scope"]["school_ids"] == [str(RIVERSIDE_HIGH)]
    assert await _audit_count(kit, RIVERSIDE) == 1


async def test_suggested_needs_of_a_trust_wide_audit_list_only_this_trusts_schools(
    kit: Any,
) -> None:
    """Tenancy: the schools a trust-wide audit's needs may go to are the trust's own; another
    trust's school is refused when accepting, and another trust cannot read the list."""
    principles = await kit.instrument_id("effective-cpd-principles")
    audit = await kit.create_audit(instrument_id=principles, k=3, title="Trust principles")
    await kit.transition(audit["id"], "open")
    answers = {str(n): {"values": 4, "practice": 4} for n in range(1, 9)}
    answers["2"] = {"values": 5, "practice": 2}
    for person in kit.people()[:6]:
        await kit.respond(audit["id"], person.key, answers)
    await kit.transition(audit["id"], "close")
    resp = await kit.gw.get(
        f"/v1/audits/{audit['id']}/suggested-needs", headers=await kit.h("admin")
    )
    assert resp.status_code == 200, resp.text
    suggested = resp.json()
    assert sorted(suggested["school_ids"]) == sorted([str(NORTHFIELD), str(SOUTHBANK)]), (
        "a trust-wide audit's suggested needs may name only the trust's own schools"
    )
    assert [s["item_key"] for s in suggested["items"] if s["kind"] == "gap"] == ["2"]

    accept = f"/v1/audits/{audit['id']}/suggested-needs/accept"
    resp = await kit.gw.post(
        accept,
        json={"item_key": "2", "need_types": ["skills"], "school_id": str(RIVERSIDE_HIGH)},
        headers=await kit.h("admin"),
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"] == [{"loc": "body.school_id", "msg": "not in the audit's scope"}]
    for url in (f"/v1/audits/{audit['id']}/suggested-needs", f"/v1/audits/{audit['id']}"):
        other = await kit.gw.get(url, headers=await kit.h("r-admin"))
        assert other.status_code == 404, f"{url}: {other.status_code}"
