"""'Audits waiting for my response': open audits whose frozen audience holds me and that I
have not answered, with my own part in each audit shown to me alone."""

from __future__ import annotations

from typing import Any

from cpd_demo.trust import NORTHFIELD

PAIRED = {str(n): {"values": 4, "practice": 3} for n in range(1, 9)}


async def test_staff_see_the_audits_waiting_for_them_and_nobody_else_learns_it(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    northfield = {"kind": "school", "school_ids": [str(NORTHFIELD)]}
    teachers = await kit.create_audit(
        instrument_id=principles, scope=northfield, groups=["teacher"], title="Teachers"
    )
    support = await kit.create_audit(
        instrument_id=principles, scope=northfield, groups=["support"], title="Support"
    )
    await kit.create_audit(instrument_id=principles, scope=northfield, title="Draft")
    done = await kit.create_audit(
        instrument_id=principles, scope=northfield, groups=["teacher"], title="Done"
    )
    for audit in (teachers, support, done):
        await kit.transition(audit["id"], "open")
    await kit.transition(done["id"], "close")

    async def waiting(who: str, flag: str = "true") -> list[str]:
        resp = await kit.gw.get(f"/v1/audits?awaiting_me={flag}", headers=await kit.h(who))
        assert resp.status_code == 200, resp.text
        return [a["title"] for a in resp.json()["items"]]

    assert await waiting("n-t1") == ["Teachers"]
    assert await waiting("n-s1") == ["Support"]
    assert await waiting("n-head") == []  # a leader, not a teacher: in neither audience
    url = f"/v1/audits/{teachers['id']}"
    mine = (await kit.gw.get(url, headers=await kit.h("n-t1"))).json()["me"]
    assert mine == {"in_audience": True, "responded": False, "awaiting_response": True}
    before = {
        who: await kit.gw.get(url, headers=await kit.h(who)) for who in ("n-t2", "n-head", "admin")
    }

    await kit.respond(teachers["id"], "n-t1", PAIRED)
    assert await waiting("n-t1") == []
    assert sorted(await waiting("n-t1", "false")) == ["Done", "Support", "Teachers"]
    mine = (await kit.gw.get(url, headers=await kit.h("n-t1"))).json()["me"]
    assert mine == {"in_audience": True, "responded": True, "awaiting_response": False}
    listed = (await kit.gw.get("/v1/audits?status=open", headers=await kit.h("n-t1"))).json()
    assert {a["title"]: a["me"]["responded"] for a in listed["items"]} == {
        "Teachers": True,
        "Support": False,
    }
    # Nobody else's view of the audit changed: not a colleague's, a leader's or an admin's.
    for who, old in before.items():
        now = await kit.gw.get(url, headers=await kit.h(who))
        assert now.json() == old.json() and now.headers["etag"] == old.headers["etag"], who
        assert now.json()["me"]["responded"] is False
    assert await waiting("n-t2") == ["Teachers"]
