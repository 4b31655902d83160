"""Audit rounds: creation rules, draft -> open -> closed with 409 on illegal moves, who sees
what (another trust: 404; governors read results only after close), changes to drafts."""

from __future__ import annotations

from typing import Any

from cpd_demo.trust import NORTHFIELD, SOUTHBANK

PAIRED = {str(n): {"values": 5, "practice": 3} for n in range(1, 9)}


async def test_life_cycle_permissions_and_tenancy(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    northfield = {"kind": "school", "school_ids": [str(NORTHFIELD)]}
    # Creation rules.
    await kit.create_audit(instrument_id=principles, k=2, expect=422)
    await kit.create_audit(instrument_id=principles, as_="n-head", expect=403)  # trust scope
    await kit.create_audit(
        instrument_id=principles,
        scope={"kind": "school", "school_ids": [str(SOUTHBANK)]},
        as_="n-head",
        expect=403,
    )
    await kit.create_audit(instrument_id=principles, scope=northfield, as_="n-t1", expect=403)
    bad = await kit.gw.post(
        "/v1/audits",
        json={
            "instrument_id": str(NORTHFIELD),
            "title": "x",
            "scope": {"kind": "schools", "school_ids": [str(NORTHFIELD), str(NORTHFIELD)]},
            "surprise": 1,
        },
        headers=await kit.h("admin"),
    )
    assert bad.status_code == 422
    assert {e["loc"] for e in bad.json()["errors"]} >= {"body.surprise", "body.scope"}
    unknown = await kit.gw.post(
        "/v1/audits",
        json={
            "instrument_id": str(NORTHFIELD),
            "title": "x",
            "scope": {"kind": "school", "school_ids": [str(NORTHFIELD)]},
        },
        headers=await kit.h("admin"),
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"loc": "body.instrument_id", "msg": "no such instrument"}]

    audit = await kit.create_audit(
        instrument_id=principles, scope=northfield, as_="n-head", k=3, title="Spring round"
    )
    assert audit["status"] == "draft" and audit["min_group_size"] == 3
    assert audit["instrument"]["key"] == "effective-cpd-principles"
    assert audit["instrument"]["version"] == 1 and audit["instrument"]["paired"] is True
    assert audit["audience"]["staff_groups"] == [
        "leader",
        "support",
        "teacher",
        "teaching_assistant",
    ]
    url = f"/v1/audits/{audit['id']}"
    got = await kit.gw.get(url, headers=await kit.h("n-head"))
    assert got.status_code == 200 and got.headers["etag"]
    # Drafts are the leaders' business; other schools and other trusts never see the audit.
    for who in ("n-t1", "n-gov", "s-head", "s-t1", "r-admin", "r-t1"):
        assert (await kit.gw.get(url, headers=await kit.h(who))).status_code == 404, who
    listed = await kit.gw.get("/v1/audits?status=draft", headers=await kit.h("admin"))
    assert [a["id"] for a in listed.json()["items"]] == [audit["id"]]
    assert (await kit.gw.get("/v1/audits", headers=await kit.h("n-t1"))).json()["items"] == []

    # A draft can change with If-Match; a Southbank leader cannot.
    etag = got.headers["etag"]
    change = {"audience": {"staff_groups": ["teacher", "teaching_assistant"]}}
    assert (await kit.gw.patch(url, json=change, headers=await kit.h("n-head"))).status_code == 428
    resp = await kit.gw.patch(url, json=change, headers={**await kit.h("n-head"), "If-Match": etag})
    assert resp.status_code == 200, resp.text
    assert resp.json()["audience"]["staff_groups"] == ["teacher", "teaching_assistant"]
    stale = await kit.gw.patch(
        url, json=change, headers={**await kit.h("n-head"), "If-Match": etag}
    )
    assert stale.status_code == 412

    # Illegal transitions are 409; only managers move it.
    await kit.transition(audit["id"], "close", expect=409)
    await kit.transition(audit["id"], "open", as_="s-head", expect=404)
    opened = await kit.transition(audit["id"], "open", as_="n-head")
    assert opened["status"] == "open" and opened["opened_at"]
    assert opened["audience_size"] == 10  # 7 teachers and 3 assistants at Northfield
    await kit.transition(audit["id"], "open", expect=409)
    await kit.transition(audit["id"], "close", as_="n-t1", expect=403)
    etag = (await kit.gw.get(url, headers=await kit.h("n-head"))).headers["etag"]
    frozen = await kit.gw.patch(
        url, json={"min_group_size": 4}, headers={**await kit.h("n-head"), "If-Match": etag}
    )
    assert frozen.status_code == 409
    renamed = await kit.gw.patch(
        url,
        json={"title": "Spring round 2027"},
        headers={**await kit.h("n-head"), "If-Match": etag},
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Spring round 2027"

    # Open audits are visible to the school's staff and governors; results are not (yet).
    assert (await kit.gw.get(url, headers=await kit.h("n-t1"))).status_code == 200
    assert (await kit.gw.get(url, headers=await kit.h("n-gov"))).status_code == 200
    for key in ("n-t1", "n-t2", "n-t3"):
        await kit.respond(audit["id"], key, PAIRED)
    await kit.results(audit["id"], as_="n-gov", expect=403)
    await kit.results(audit["id"], as_="n-t1", expect=403)
    leader_view = await kit.results(audit["id"], as_="n-head")
    assert leader_view["status"] == "open" and leader_view["responses"] == 3
    assert leader_view["response_rate"] == 30.0 and "items" not in leader_view
    chart = await kit.gw.get(f"{url}/results/chart.svg", headers=await kit.h("n-gov"))
    assert chart.status_code == 403
    # Another trust: 404 for the audit, its results, chart, CSV and counts.
    for path in ("", "/results", "/results/chart.svg", "/results.csv", "/responses/counts"):
        resp = await kit.gw.get(url + path, headers=await kit.h("r-admin"))
        assert resp.status_code == 404, path
    assert (await kit.gw.post(url + "/close", headers=await kit.h("r-admin"))).status_code == 404

    closed = await kit.transition(audit["id"], "close", as_="n-head")
    assert closed["status"] == "closed" and closed["closed_at"]
    await kit.transition(audit["id"], "close", expect=409)
    await kit.transition(audit["id"], "open", expect=409)
    governor_view = await kit.results(audit["id"], as_="n-gov")
    assert governor_view == await kit.results(audit["id"], as_="n-head")
    assert governor_view["items"][0]["mean_values"] == 5.0
    assert (
        await kit.gw.get(f"{url}/results/chart.svg", headers=await kit.h("n-gov"))
    ).status_code == 200
    # Southbank's governor is not in scope.
    await kit.results(audit["id"], as_="s-gov", expect=404)
    closed_list = await kit.gw.get(
        f"/v1/audits?status=closed&school_id={NORTHFIELD}", headers=await kit.h("n-gov")
    )
    assert [a["id"] for a in closed_list.json()["items"]] == [audit["id"]]


async def test_only_draft_audits_can_be_deleted_with_if_match(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    leader = await kit.h("n-head")
    scope = {"kind": "school", "school_ids": [str(NORTHFIELD)]}
    draft = await kit.create_audit(instrument_id=principles, scope=scope, as_="n-head", k=3)
    url = f"/v1/audits/{draft['id']}"
    # A need linked by hand to the draft's items keeps existing without the link.
    need = await kit.gw.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(NORTHFIELD),
            "level": "whole_school",
            "title": "Coaching culture",
            "need_types": ["skills"],
            "audit_items": [{"audit_id": draft["id"], "item_keys": ["2"]}],
        },
    )
    assert need.status_code == 201, need.text

    got = await kit.gw.get(url, headers=leader)
    assert (await kit.gw.delete(url, headers=leader)).status_code == 428
    stale = await kit.gw.delete(url, headers={**leader, "If-Match": '"stale"'})
    assert stale.status_code == 412
    # Staff do not see drafts at all; another trust gets 404 too.
    for who in ("n-t1", "r-admin"):
        hidden = await kit.gw.delete(
            url, headers={**(await kit.h(who)), "If-Match": got.headers["etag"]}
        )
        assert hidden.status_code == 404, hidden.text
    deleted = await kit.gw.delete(url, headers={**leader, "If-Match": got.headers["etag"]})
    assert deleted.status_code == 204, deleted.text
    assert (await kit.gw.get(url, headers=leader)).status_code == 404
    kept = await kit.gw.get(f"/v1/needs/{need.json()['id']}", headers=leader)
    assert kept.status_code == 200
    assert kept.json()["audit_items"] == []

    # Open and closed audits are records: 409 even with the right ETag.
    live = await kit.create_audit(instrument_id=principles, scope=scope, as_="n-head", k=3)
    live_url = f"/v1/audits/{live['id']}"
    for action in ("open", "close"):
        current = await kit.transition(live["id"], action, as_="n-head")
        etag = (await kit.gw.get(live_url, headers=leader)).headers["etag"]
        refused = await kit.gw.delete(live_url, headers={**leader, "If-Match": etag})
        assert refused.status_code == 409, refused.text
        assert current["status"] in refused.json()["detail"]
        assert (await kit.gw.get(live_url, headers=leader)).status_code == 200
