"""Every "one X per Y" rule of the audit service holds under concurrency: the same request
sent several times at once makes one record, and every other request gets a clear 409 (or
the documented replay), never a second record and never a 500."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from cpd_audit.models import (
    AlignmentPlan,
    AuditParticipation,
    AuditResponse,
    CareerPlan,
    CareerPlanShare,
    CpdPlan,
    Instrument,
    Need,
    NeedAuditItem,
    OutboxEvent,
)
from cpd_common.events import catalogue
from cpd_common.testing.concurrency import one_winner, race
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY

from .rounds import closed_round_with_a_gap, open_principles_round

N = 8


async def _count(kit: Any, stmt: Any) -> int:
    async with kit.stack.session("audit") as session:
        return int(await session.scalar(stmt) or 0)


async def test_accepting_a_suggested_need_eight_times_at_once_makes_one_need(kit: Any) -> None:
    audit = await closed_round_with_a_gap(kit, title="Race round")
    leader = await kit.h("n-head")
    url = f"/v1/audits/{audit['id']}/suggested-needs/accept"
    body = {"item_key": "2", "need_types": ["skills"], "priority": "high"}

    responses, _ = await race(N, lambda: kit.gw.post(url, headers=leader, json=body))
    winner = one_winner(responses)
    need_id = winner.json()["id"]
    for loser in responses:
        if loser is not winner:
            problem = loser.json()
            assert problem["status"] == 409
            assert problem["need_id"] == need_id
            assert need_id in problem["detail"]

    linked = (
        select(func.count())
        .select_from(NeedAuditItem)
        .where(NeedAuditItem.audit_id == uuid.UUID(audit["id"]), NeedAuditItem.item_key == "2")
    )
    assert await _count(kit, linked) == 1
    assert await _count(kit, select(func.count()).select_from(Need)) == 1
    recorded = (
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.type == catalogue.NeedRecorded.event_type)
    )
    assert await _count(kit, recorded) == 1

    # Still one once the need is dropped: the 409 says how to bring it back.
    got = await kit.gw.get(f"/v1/needs/{need_id}", headers=leader)
    dropped = await kit.gw.patch(
        f"/v1/needs/{need_id}",
        headers={**leader, "If-Match": got.headers["etag"]},
        json={"status": "dropped"},
    )
    assert dropped.status_code == 200, dropped.text
    again = await kit.gw.post(url, headers=leader, json=body)
    assert again.status_code == 409
    assert again.json()["need_id"] == need_id
    assert "reopen" in again.json()["detail"]

    # A team need from the same item is another need, and also only one of it.
    team_body = {**body, "level": "team", "team_kind": "phase", "team_name": "KS2"}
    responses, _ = await race(N, lambda: kit.gw.post(url, headers=leader, json=team_body))
    one_winner(responses)
    same_team = {**team_body, "team_name": "ks2 "}
    assert (await kit.gw.post(url, headers=leader, json=same_team)).status_code == 409
    assert await _count(kit, select(func.count()).select_from(Need)) == 2


async def test_one_response_per_person_per_audit_under_concurrency(kit: Any) -> None:
    audit = await open_principles_round(kit)
    answers = {str(n): {"values": 4, "practice": 3} for n in range(1, 9)}
    teacher = await kit.h("n-t1")
    url = f"/v1/audits/{audit['id']}/responses"

    responses, _ = await race(
        N, lambda: kit.gw.post(url, headers=teacher, json={"answers": answers})
    )
    one_winner(responses)
    audit_id = uuid.UUID(audit["id"])
    assert (
        await _count(
            kit,
            select(func.count())
            .select_from(AuditParticipation)
            .where(AuditParticipation.audit_id == audit_id),
        )
        == 1
    )
    assert (
        await _count(
            kit,
            select(func.count())
            .select_from(AuditResponse)
            .where(AuditResponse.audit_id == audit_id),
        )
        == 1
    )


async def test_custom_instrument_key_is_one_per_trust_under_concurrency(kit: Any) -> None:
    body = {
        "key": "race-check",
        "title": "Race check",
        "items": [{"key": "1", "type": "agreement", "text": "We plan CPD together."}],
    }
    admin = await kit.h("admin")
    responses, _ = await race(N, lambda: kit.gw.post("/v1/instruments", json=body, headers=admin))
    one_winner(responses)
    assert (
        await _count(
            kit,
            select(func.count()).select_from(Instrument).where(Instrument.key == "race-check"),
        )
        == 1
    )
    # Another trust may use the same key for its own instrument.
    other = await kit.gw.post("/v1/instruments", json=body, headers=await kit.h("r-admin"))
    assert other.status_code == 201, other.text


async def test_one_alignment_plan_and_one_cpd_plan_per_school_and_year(kit: Any) -> None:
    leader = await kit.h("n-head")
    alignment = {"school_id": str(NORTHFIELD), "start_year": 2027}
    responses, _ = await race(
        N, lambda: kit.gw.post("/v1/alignment-plans", headers=leader, json=alignment)
    )
    one_winner(responses)
    assert await _count(kit, select(func.count()).select_from(AlignmentPlan)) == 1

    cpd = {"school_id": str(NORTHFIELD), "start_year": 2027}
    responses, _ = await race(N, lambda: kit.gw.post("/v1/cpd-plans", headers=leader, json=cpd))
    one_winner(responses)
    assert await _count(kit, select(func.count()).select_from(CpdPlan)) == 1


async def test_one_career_plan_per_person_and_year(kit: Any) -> None:
    teacher = await kit.h("n-t2")
    owner = PEOPLE_BY_KEY["n-t2"].id
    body = {"title": "Towards subject leadership", "start_year": 2026}
    responses, _ = await race(
        N, lambda: kit.gw.post("/v1/career-plans", headers=teacher, json=body)
    )
    winner = one_winner(responses)
    loser = next(r for r in responses if r is not winner)
    assert "2026/27" in loser.json()["detail"]
    mine = select(func.count()).select_from(CareerPlan).where(CareerPlan.owner_id == owner)
    assert await _count(kit, mine) == 1

    # Another year is another plan; moving it onto a year already planned is 409.
    other = await kit.gw.post(
        "/v1/career-plans", headers=teacher, json={**body, "start_year": 2027}
    )
    assert other.status_code == 201, other.text
    moved = await kit.gw.patch(
        other.headers["location"],
        headers={**teacher, "If-Match": other.headers["etag"]},
        json={"start_year": 2026},
    )
    assert moved.status_code == 409, moved.text
    assert moved.json()["errors"] == [
        {"loc": "body.start_year", "msg": "you already have a plan for this year"}
    ]
    assert await _count(kit, mine) == 2
    # Undated plans are not limited; another person has their own 2026 plan.
    for _ in range(2):
        undated = await kit.gw.post(
            "/v1/career-plans", headers=teacher, json={"title": "Ideas for later"}
        )
        assert undated.status_code == 201, undated.text
    colleague = await kit.gw.post("/v1/career-plans", headers=await kit.h("n-t3"), json=body)
    assert colleague.status_code == 201, colleague.text

    # Sharing with one mentor at once: one share; repeats are the documented 200 replay.
    share_url = f"{winner.headers['location']}/share"
    mentor = {"mentor_id": str(PEOPLE_BY_KEY["n-t4"].id)}
    responses, _ = await race(N, lambda: kit.gw.post(share_url, headers=teacher, json=mentor))
    one_winner(responses, others=frozenset({200}))
    shares = (
        select(func.count())
        .select_from(CareerPlanShare)
        .where(CareerPlanShare.plan_id == uuid.UUID(winner.json()["id"]))
    )
    assert await _count(kit, shares) == 1
