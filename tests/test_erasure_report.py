"""The erasure report shows each service's confirmation, not just that it was told: every
service publishes ``cpd.<service>.erasure.completed`` in the transaction that erased the
person, and the gateway projects those into ``GET /v1/people/{id}/erasure``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from cpd_common.testing.api import outbox
from cpd_demo.trust import DEMO_CREDENTIALS, PEOPLE
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
SERVICES = ("gateway", "audit", "lessonstudy", "evaluation")
CONFIRMING = {
    "audit": "cpd.audit.erasure.completed.v1",
    "lessonstudy": "cpd.lessonstudy.erasure.completed.v1",
    "evaluation": "cpd.evaluation.erasure.completed.v1",
}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {s["service"]: s["status"] for s in report["services"]}


async def test_after_erasure_every_service_confirms(demo: Stack) -> None:
    admin = await demo.auth(*ADMIN)
    teacher = next(p for p in PEOPLE if p.email == DEMO_CREDENTIALS["teacher (Northfield)"][0])
    person_id = str(teacher.id)

    erased = await demo.gateway.post(f"/v1/people/{person_id}/erase", headers=admin)
    assert erased.status_code == 202, erased.text
    report = erased.json()
    # The gateway erased in this request; the others have only been told.
    assert statuses(report) == {
        "gateway": "confirmed",
        "audit": "pending",
        "lessonstudy": "pending",
        "evaluation": "pending",
    }
    assert report["complete"] is False
    pending = {s["service"]: s for s in report["services"]}
    assert pending["audit"]["confirmed_at"] is None
    assert pending["gateway"]["confirmed_at"] == report["erased_at"]

    await demo.settle()
    resp = await demo.gateway.get(f"/v1/people/{person_id}/erasure", headers=admin)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert statuses(report) == dict.fromkeys(SERVICES, "confirmed")
    assert report["complete"] is True
    assert all(s["confirmed_at"] >= report["erased_at"] for s in report["services"])

    # Each service confirmed once, about this person, in its own outbox.
    for service, event_type in CONFIRMING.items():
        sent = await outbox(demo, service, event_type)
        assert [e["subject"] for e in sent] == [person_id], service
        assert sent[0]["data"]["trust_id"] == str(teacher.trust_id)

    # Erasing again changes nothing: no second round of events or confirmations.
    again = await demo.gateway.post(f"/v1/people/{person_id}/erase", headers=admin)
    assert again.status_code == 202 and again.json()["complete"] is True
    await demo.settle()
    for service, event_type in CONFIRMING.items():
        assert len(await outbox(demo, service, event_type)) == 1, service
    async with demo.session("gateway") as session:
        count = await session.scalar(
            text("SELECT count(*) FROM erasure_confirmations WHERE person_id = :p"),
            {"p": person_id},
        )
    assert count == len(SERVICES)

    # Another trust's admin sees no such person.
    riverside = await demo.auth(*RIVERSIDE_ADMIN)
    resp = await demo.gateway.get(f"/v1/people/{person_id}/erasure", headers=riverside)
    assert resp.status_code == 404
