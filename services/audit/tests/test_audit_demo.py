"""The audit demo: seeded like ``make up`` does, then read through the API."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from sqlalchemy import func, select

from cpd_audit import demo as audit_demo
from cpd_audit.models import AuditParticipation, AuditResponse, OutboxEvent
from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD


async def test_demo_shows_a_closed_round_with_results_and_an_open_diagnostic(kit: Any) -> None:
    async with kit.stack.session("audit") as session:
        assert await audit_demo.projection_ready(session)
        await audit_demo.seed_demo(session)
        await session.commit()
    async with kit.stack.session("audit") as session:
        await audit_demo.seed_demo(session)  # idempotent
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(AuditResponse)) == 35
        assert await session.scalar(select(func.count()).select_from(AuditParticipation)) == 35
        types = list(await session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.seq)))
        assert types.count(catalogue.AuditOpened.event_type) == 2
        assert types.count(catalogue.AuditClosed.event_type) == 1
    await kit.stack.settle()

    listed = await kit.gw.get("/v1/audits", headers=await kit.h("n-t1"))
    audits = {a["id"]: a for a in listed.json()["items"]}
    values = audits[str(audit_demo.VALUES_AUDIT)]
    diagnostic = audits[str(audit_demo.DIAGNOSTIC_AUDIT)]
    assert values["status"] == "closed" and diagnostic["status"] == "open"
    assert values["instrument"]["key"] == "effective-cpd-principles"

    # The teacher login reads the closed round's results and chart.
    results = await kit.results(values["id"], as_="n-t1")
    assert results["respondents"] == 28
    assert all(i["withheld"] is None and i["gap"] > 0 for i in results["items"])
    assert results["ranked_by_gap"][0] in ("2", "4")
    by_group = await kit.results(values["id"], by="staff_group", as_="admin")
    withheld = {c["group"]["staff_group"] for c in by_group["breakdown"] if c["withheld"]}
    assert {"support", "leader"} <= withheld
    assert kit.cell(by_group, staff_group="teacher")["respondents"] == 15
    # A Northfield governor sees the trust-wide round split by Northfield's groups only.
    own = await kit.results(values["id"], by="staff_group", as_="n-gov")
    assert own["by"] == ["school", "staff_group"]
    assert {c["group"]["school"] for c in own["breakdown"]} == {str(NORTHFIELD)}
    assert kit.cell(own, staff_group="teacher")["respondents"] == 7
    split = await kit.results(values["id"], by="school,staff_group", as_="admin")
    assert any(c["withheld"] for c in split["breakdown"])
    chart = await kit.gw.get(
        f"/v1/audits/{values['id']}/results/chart.svg", headers=await kit.h("n-t1")
    )
    root = ET.fromstring(chart.content)  # noqa: S314 - our own output, parsed to check it
    ids = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {"series-values", "series-practice", "legend"} <= ids
    needs = await kit.gw.get(
        f"/v1/audits/{values['id']}/suggested-needs", headers=await kit.h("n-head")
    )
    assert needs.status_code == 200 and needs.json()["items"][0]["kind"] == "gap"

    # The diagnostic is open: the teacher login can still answer; leaders see counts only.
    me = await kit.gw.get(
        f"/v1/audits/{diagnostic['id']}/responses/me", headers=await kit.h("n-t1")
    )
    assert me.json()["can_respond"] is True
    counts = await kit.gw.get(
        f"/v1/audits/{diagnostic['id']}/responses/counts", headers=await kit.h("admin")
    )
    assert counts.json()["responses"] == 7 and counts.json()["by_school"] is None
    progress = await kit.results(diagnostic["id"], as_="admin")
    assert progress == {
        "audit_id": diagnostic["id"],
        "title": diagnostic["title"],
        "status": "open",
        "released": False,
        "audience_size": 28,
        "responses": 7,
        "response_rate": 25.0,
    }
    await kit.results(diagnostic["id"], as_="n-t1", expect=403)
