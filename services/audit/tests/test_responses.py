"""Responding: once, only in the audience, only while open, every bad answer listed; and
anonymity: no response row carries a person, participation shares nothing with answers,
response counts are suppressed, erasure removes participation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, select, text

from cpd_audit.models import AuditAnswer, AuditParticipation, AuditResponse, IdempotencyKey
from cpd_demo.trust import NORTHFIELD, PEOPLE, PEOPLE_BY_KEY, SOUTHBANK

ALL_PRINCIPLES = {str(n): {"values": 4, "practice": 2} for n in range(1, 9)}


async def test_respond_once_in_the_audience_while_open_and_never_see_answers_again(
    kit: Any,
) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    audit = await kit.create_audit(
        instrument_id=principles,
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        as_="n-head",
    )
    url = f"/v1/audits/{audit['id']}/responses"
    # A draft takes no responses (and staff cannot even see it).
    await kit.respond(audit["id"], "n-t1", ALL_PRINCIPLES, expect=404)
    await kit.respond(audit["id"], "n-head", ALL_PRINCIPLES, expect=409)
    await kit.transition(audit["id"], "open", as_="n-head")

    me = await kit.gw.get(f"{url}/me", headers=await kit.h("n-t1"))
    assert me.status_code == 200
    assert me.json() | {"audit_id": None} == {
        "audit_id": None,
        "status": "open",
        "responded": False,
        "responded_on": None,
        "can_respond": True,
        "reason": None,
    }
    # Every bad item is listed at once.
    bad = {
        "1": {"values": 6, "practice": 2},
        "2": {"values": 4},
        "3": {"score": 3},
        "4": {"values": 4, "practice": 0, "comment": "hm"},
        "9": {"values": 1, "practice": 1},
        **{k: v for k, v in ALL_PRINCIPLES.items() if k in ("5", "6")},
    }
    resp = await kit.gw.post(url, json={"answers": bad}, headers=await kit.h("n-t1"))
    assert resp.status_code == 422, resp.text
    problems = {e["loc"]: e["msg"] for e in resp.json()["errors"]}
    assert set(problems) == {f"body.answers.{k}" for k in ("1", "2", "3", "4", "7", "8", "9")}
    assert "between 1 and 5" in problems["body.answers.1"]
    assert "`practice` is required" in problems["body.answers.2"]
    assert "score" in problems["body.answers.3"]
    assert "comment" in problems["body.answers.4"]
    assert problems["body.answers.7"] == "an answer is required"
    assert problems["body.answers.9"] == "no such item"
    # Unknown fields in an answer are rejected by the schema.
    resp = await kit.gw.post(
        url, json={"answers": {"1": {"value": 3}}}, headers=await kit.h("n-t1")
    )
    assert resp.status_code == 422

    # A valid response; an Idempotency-Key is deliberately not stored (it would tie the
    # answers' hash to the person).
    resp = await kit.gw.post(
        url,
        json={"answers": ALL_PRINCIPLES},
        headers={**await kit.h("n-t1"), "Idempotency-Key": "once-only"},
    )
    assert resp.status_code == 201, resp.text
    receipt = resp.json()
    assert receipt["responded"] is True and receipt["answered_items"] == 8
    assert "answers" not in receipt and "id" not in receipt
    assert resp.headers["location"] == f"{url}/me"
    # Second try: 409, also with the same key.
    again = await kit.gw.post(
        url,
        json={"answers": ALL_PRINCIPLES},
        headers={**await kit.h("n-t1"), "Idempotency-Key": "once-only"},
    )
    assert again.status_code == 409
    me = (await kit.gw.get(f"{url}/me", headers=await kit.h("n-t1"))).json()
    assert me["responded"] is True and me["can_respond"] is False
    assert me["responded_on"] == datetime.now(UTC).date().isoformat()
    assert set(me) == {"audit_id", "status", "responded", "responded_on", "can_respond", "reason"}

    # Outside the audience: a governor of the school (not an audience group), and Southbank
    # staff for whom the audit does not exist; another trust gets 404 too.
    await kit.respond(audit["id"], "n-gov", ALL_PRINCIPLES, expect=403)
    gov_me = (await kit.gw.get(f"{url}/me", headers=await kit.h("n-gov"))).json()
    assert gov_me["can_respond"] is False and "staff group" in gov_me["reason"]
    await kit.respond(audit["id"], "s-t1", ALL_PRINCIPLES, expect=404)
    await kit.respond(audit["id"], "r-t1", ALL_PRINCIPLES, expect=404)

    for key in ("n-t2", "n-t3", "n-ta1", "n-s1"):
        await kit.respond(audit["id"], key, ALL_PRINCIPLES)
    await kit.transition(audit["id"], "close", as_="n-head")
    await kit.respond(audit["id"], "n-t4", ALL_PRINCIPLES, expect=409)

    async with kit.stack.session("audit") as session:
        assert (
            await session.scalar(
                select(IdempotencyKey.key).where(IdempotencyKey.key == "once-only")
            )
        ) is None
        # No column of a response or an answer can hold a person.
        for model in (AuditResponse, AuditAnswer):
            columns = {c.name for c in inspect(model).columns}
            assert not columns & {"person_id", "respondent_id", "participation_id", "user_id"}
        responses = (
            await session.scalars(
                select(AuditResponse).where(AuditResponse.audit_id == uuid.UUID(audit["id"]))
            )
        ).all()
        assert len(responses) == 5
        person_ids = {p.id for p in PEOPLE}
        raw = await session.execute(
            text(
                "SELECT to_jsonb(r)::text FROM audit_responses r WHERE audit_id = :a "
                "UNION ALL SELECT to_jsonb(a)::text FROM audit_answers a WHERE audit_id = :a"
            ),
            {"a": uuid.UUID(audit["id"])},
        )
        dumps = [row[0] for row in raw.all()]
        assert len(dumps) == 5 + 5 * 8
        assert not any(str(pid) in dump for pid in person_ids for dump in dumps)
        # Response ids carry no time (UUIDv4); only the day is kept, on both sides.
        assert all(r.id.version == 4 for r in responses)
        # Attributes are copied coarsely.
        assert sorted(r.staff_group for r in responses) == [
            "support",
            "teacher",
            "teacher",
            "teacher",
            "teaching_assistant",
        ]
        assert {r.school_id for r in responses} == {NORTHFIELD}
        participation = (
            await session.scalars(
                select(AuditParticipation).where(
                    AuditParticipation.audit_id == uuid.UUID(audit["id"])
                )
            )
        ).all()
        assert {p.person_id for p in participation} == {
            PEOPLE_BY_KEY[k].id for k in ("n-t1", "n-t2", "n-t3", "n-ta1", "n-s1")
        }
        assert {p.id for p in participation}.isdisjoint({r.id for r in responses})
        assert {c.name for c in inspect(AuditParticipation).columns} == {
            "id",
            "audit_id",
            "trust_id",
            "person_id",
            "responded_on",
        }


async def test_response_counts_are_suppressed_and_erasure_removes_participation(
    kit: Any,
) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    audit = await kit.create_audit(instrument_id=principles, groups=["teacher", "support"])
    await kit.transition(audit["id"], "open")
    assert audit["audience_size"] is None
    # Northfield: 7 teachers + 2 support; Southbank: 4 teachers.
    responders = ["n-t1", "n-t2", "n-t3", "n-t4", "n-t5", "n-t6", "n-t7", "n-s1", "n-s2"]
    responders += ["s-t1", "s-t2", "s-t3", "s-t4"]
    for key in responders:
        await kit.respond(audit["id"], key, ALL_PRINCIPLES)
    counts_url = f"/v1/audits/{audit['id']}/responses/counts"
    # While open: the whole audit's count and rate only.
    resp = await kit.gw.get(counts_url, headers=await kit.h("admin"))
    assert resp.status_code == 200, resp.text
    assert resp.json() | {"audit_id": None} == {
        "audit_id": None,
        "status": "open",
        "min_group_size": 5,
        "audience_size": 19,
        "responses": 13,
        "response_rate": 68.4,
        "by_school": None,
        "by_staff_group": None,
        "by_school_and_staff_group": None,
    }
    await kit.transition(audit["id"], "close")
    resp = await kit.gw.get(counts_url, headers=await kit.h("admin"))
    assert resp.status_code == 200, resp.text
    counts = resp.json()
    assert counts["responses"] == 13 and counts["audience_size"] == 19
    by_school = {c["school_id"]: c for c in counts["by_school"]}
    # Southbank's 4 are withheld, so Northfield's 9 must be too (13 - 9 = 4 gives it away).
    assert by_school[str(SOUTHBANK)]["responses"] is None
    assert "fewer than 5" in by_school[str(SOUTHBANK)]["withheld"]
    assert by_school[str(NORTHFIELD)]["responses"] is None
    assert "worked out" in by_school[str(NORTHFIELD)]["withheld"]
    two_way = {(c["school_id"], c["staff_group"]): c for c in counts["by_school_and_staff_group"]}
    assert two_way[(str(NORTHFIELD), "teacher")]["responses"] == 7
    assert two_way[(str(NORTHFIELD), "support")]["responses"] is None
    by_group = {c["staff_group"]: c for c in counts["by_staff_group"]}
    assert by_group["support"]["responses"] is None
    assert by_group["teacher"]["responses"] is None  # 11 + 2 = 13 would reveal support's 2
    assert "who" not in str(counts).lower()
    # Never who: no endpoint lists respondents; staff cannot see counts.
    assert (await kit.gw.get(counts_url, headers=await kit.h("n-t1"))).status_code == 403
    assert (
        await kit.gw.get(f"/v1/audits/{audit['id']}/responses", headers=await kit.h("admin"))
    ).status_code == 405

    # Right to erasure: the participation row goes, the anonymous answers stay.
    erase = await kit.gw.post(
        f"/v1/people/{PEOPLE_BY_KEY['n-t1'].id}/erase", headers=await kit.h("admin")
    )
    assert erase.status_code == 202, erase.text  # accepted: the services erase on the event
    await kit.stack.settle()
    async with kit.stack.session("audit") as session:
        left = set(
            await session.scalars(
                select(AuditParticipation.person_id).where(
                    AuditParticipation.audit_id == uuid.UUID(audit["id"])
                )
            )
        )
        assert PEOPLE_BY_KEY["n-t1"].id not in left and len(left) == 12
        answers = await session.scalar(
            select(text("count(*)"))
            .select_from(AuditResponse)
            .where(AuditResponse.audit_id == uuid.UUID(audit["id"]))
        )
        assert answers == 13
