"""Private self-audits: a teacher answers a built-in instrument for themself; only they can
read or delete it (a leader or trust admin gets 404); it never enters any aggregate; erasure
deletes it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from cpd_audit.models import AuditAnswer, AuditResponse, SelfAudit
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY

GAPS = {"1": (5, 4), "2": (5, 1), "3": (4, 4), "4": (5, 2), "5": (3, 3), "6": (4, 3)}


def paired(gaps: dict[str, tuple[int, int]]) -> dict[str, Any]:
    return {key: {"values": v, "practice": p} for key, (v, p) in gaps.items()}


async def test_a_self_audit_is_for_its_author_alone(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    me = await kit.h("n-t1")
    answers = paired({**GAPS, "7": (4, 2), "8": (2, 2)})
    # Every problem at once, as for an audit response.
    bad = await kit.gw.post(
        "/v1/self-audits",
        json={"instrument_id": principles, "answers": {"1": {"values": 9, "practice": 1}}},
        headers=me,
    )
    assert bad.status_code == 422
    assert {e["loc"] for e in bad.json()["errors"]} >= {"body.answers.1", "body.answers.2"}
    unknown = await kit.gw.post(
        "/v1/self-audits",
        json={"instrument_id": str(uuid.uuid4()), "answers": answers},
        headers=me,
    )
    assert unknown.status_code == 422

    created = await kit.gw.post(
        "/v1/self-audits",
        json={"instrument_id": principles, "note": "Before my appraisal", "answers": answers},
        headers=me,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    url = created.headers["location"]
    assert url == f"/v1/self-audits/{body['id']}"
    assert body["instrument"]["key"] == "effective-cpd-principles"
    assert body["ranked_by_gap"][:3] == ["2", "4", "7"]
    assert next(i for i in body["items"] if i["item_key"] == "2")["gap"] == 4
    got = await kit.gw.get(url, headers=me)
    assert got.status_code == 200 and got.json() == body
    listed = (await kit.gw.get("/v1/self-audits", headers=me)).json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]

    # Nobody else reads it: colleague, head, governor, trust admin, another trust.
    for who in ("n-t2", "n-head", "n-gov", "admin", "r-admin"):
        headers = await kit.h(who)
        assert (await kit.gw.get(url, headers=headers)).status_code == 404, who
        assert (await kit.gw.get("/v1/self-audits", headers=headers)).json()["items"] == []
        refused = await kit.gw.delete(url, headers={**headers, "If-Match": got.headers["etag"]})
        assert refused.status_code == 404, who

    # It never enters an aggregate: no response row or answer anywhere, no audit counts it.
    async with kit.stack.session("audit") as session:
        assert await session.scalar(select(func.count()).select_from(AuditResponse)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditAnswer)) == 0
    audit = await kit.create_audit(
        instrument_id=principles,
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        groups=["teacher"],
        k=3,
    )
    await kit.transition(audit["id"], "open")
    await kit.transition(audit["id"], "close")
    results = await kit.results(audit["id"])
    assert results["respondents"] is None and all(i["n"] is None for i in results["items"])

    # Deleting takes If-Match, like every versioned resource.
    assert (await kit.gw.delete(url, headers=me)).status_code == 428
    stale = await kit.gw.delete(url, headers={**me, "If-Match": '"0123456789abcdef01234567"'})
    assert stale.status_code == 412
    gone = await kit.gw.delete(url, headers={**me, "If-Match": got.headers["etag"]})
    assert gone.status_code == 204
    assert (await kit.gw.get(url, headers=me)).status_code == 404


async def test_erasure_deletes_a_persons_self_audits(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    for who in ("n-t3", "n-t4"):
        created = await kit.gw.post(
            "/v1/self-audits",
            json={
                "instrument_id": principles,
                "answers": paired({**GAPS, "7": (1, 1), "8": (1, 1)}),
            },
            headers=await kit.h(who),
        )
        assert created.status_code == 201, created.text
    erased = PEOPLE_BY_KEY["n-t3"].id
    resp = await kit.gw.post(f"/v1/people/{erased}/erase", headers=await kit.h("admin"))
    assert resp.status_code == 202, resp.text
    await kit.stack.settle()
    async with kit.stack.session("audit") as session:
        owners = list(await session.scalars(select(SelfAudit.person_id)))
    assert owners == [PEOPLE_BY_KEY["n-t4"].id]
