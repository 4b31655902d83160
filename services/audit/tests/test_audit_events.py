"""``audit.audit.opened`` and ``audit.audit.closed`` go through the outbox with the change;
the closed event carries per-item aggregates exactly as suppressed in the results."""

from __future__ import annotations

import statistics
import uuid
from typing import Any

from sqlalchemy import select

from cpd_audit.models import OutboxEvent
from cpd_common.events import catalogue
from cpd_demo.trust import OAKRIDGE

INSTRUMENT = {
    "key": "two-questions",
    "title": "Two questions",
    "items": [
        {"key": "a", "type": "paired_scale", "text": "Lesson study is part of our CPD."},
        {"key": "b", "type": "agreement", "text": "Coaching is available.", "required": False},
    ],
}


def close(a: float | None, b: float, tol: float = 0.0051) -> bool:
    """Equal to two decimals (the event rounds its figures)."""
    return a is not None and abs(a - b) <= tol


async def events_of(kit: Any, audit_id: str) -> list[OutboxEvent]:
    async with kit.stack.session("audit") as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.envelope["subject"].astext == audit_id)
            .order_by(OutboxEvent.seq)
        )
        return list(rows)


async def test_open_and_close_events_carry_suppressed_aggregates_only(kit: Any) -> None:
    resp = await kit.gw.post("/v1/instruments", json=INSTRUMENT, headers=await kit.h("admin"))
    instrument = resp.json()
    audit = await kit.create_audit(instrument_id=instrument["id"], groups=["teacher"])
    assert await events_of(kit, audit["id"]) == []  # a draft publishes nothing
    await kit.transition(audit["id"], "open")
    [opened] = await events_of(kit, audit["id"])
    assert opened.type == catalogue.AuditOpened.event_type
    data = catalogue.AuditOpened.model_validate(opened.envelope["data"])
    assert data.audit_id == uuid.UUID(audit["id"]) and data.trust_id == OAKRIDGE
    assert data.instrument_key == "two-questions" and data.instrument_version == 1
    assert data.scope.kind == "trust" and data.audience_size == 15
    assert opened.envelope["trustid"] == str(OAKRIDGE)

    teachers = kit.people(groups=["teacher"])
    for index, person in enumerate(teachers):
        answers: dict[str, Any] = {"a": {"values": 5, "practice": 1 + index % 3}}
        if index < 4:  # only four answer b: under 5, withheld
            answers["b"] = {"score": 5}
        await kit.respond(audit["id"], person.key, answers)
    await kit.transition(audit["id"], "close")
    _, closed = await events_of(kit, audit["id"])
    assert closed.type == catalogue.AuditClosed.event_type
    payload = catalogue.AuditClosed.model_validate(closed.envelope["data"])
    assert payload.respondent_count == 15 and payload.min_group_size == 5
    by_key = {i.item_key: i for i in payload.items}
    assert set(by_key) == {"a", "b"}
    a = by_key["a"]
    assert a.n == 15 and a.mean_values == 5.0 and a.withheld is None
    # Expected figures from the answers given above, not from the results endpoint.
    practice = [1 + index % 3 for index in range(len(teachers))]
    assert close(a.mean_practice, statistics.mean(practice)), a.mean_practice
    assert close(a.sd_practice, statistics.stdev(practice)), a.sd_practice
    assert close(a.sd_values, 0.0), a.sd_values
    assert close(a.gap, 5.0 - statistics.mean(practice)), a.gap
    b = by_key["b"]
    assert b.withheld and "fewer than 5" in b.withheld
    assert b.model_dump(exclude={"item_key", "withheld"}) == dict.fromkeys(
        b.model_dump(exclude={"item_key", "withheld"})
    )
    # Nothing per school, group or person travels: only whole-audit figures.
    raw = str(closed.envelope["data"])
    assert "teacher" not in raw and "school_id" not in raw.replace("school_ids", "")
    assert not any(str(p.id) in raw for p in teachers)

    # Published to the stream and delivered (the evaluation service consumes audit.*).
    await kit.stack.settle()
    async with kit.stack.session("audit") as session:
        sent = await session.scalars(
            select(OutboxEvent.sent_at).where(OutboxEvent.envelope["subject"].astext == audit["id"])
        )
        assert all(s is not None for s in sent)


async def test_too_few_respondents_publish_no_figures(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    audit = await kit.create_audit(instrument_id=principles, groups=["support"], k=5)
    await kit.transition(audit["id"], "open")
    for key in ("n-s1", "n-s2", "s-s1"):
        await kit.respond(
            audit["id"], key, {str(n): {"values": 4, "practice": 2} for n in range(1, 9)}
        )
    await kit.transition(audit["id"], "close")
    _, closed = await events_of(kit, audit["id"])
    payload = catalogue.AuditClosed.model_validate(closed.envelope["data"])
    assert payload.respondent_count is None
    assert len(payload.items) == 8
    assert all(i.withheld and i.n is None and i.gap is None for i in payload.items)
    results = await kit.results(audit["id"])
    assert results["respondents"] is None and "fewer than 5" in results["withheld"]
    assert all(i["mean_values"] is None for i in results["items"])
