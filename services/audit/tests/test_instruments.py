"""Instruments: the three built-ins as data (numbered like their frameworks), custom
instruments with four item types, versions frozen once an audit uses them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from cpd_demo.trust import NORTHFIELD


async def test_builtin_instruments_keyed_like_their_frameworks(kit: Any) -> None:
    resp = await kit.gw.get("/v1/instruments?kind=builtin", headers=await kit.h("n-t1"))
    assert resp.status_code == 200, resp.text
    builtins = {i["key"]: i for i in resp.json()["items"]}
    assert set(builtins) == {"effective-cpd-principles", "cpd-quality-framework", "staff-cpd-audit"}
    assert builtins["effective-cpd-principles"]["item_types"] == ["paired_scale"]
    assert builtins["cpd-quality-framework"]["item_count"] == 44
    diagnostic = await kit.gw.get(
        f"/v1/instruments/{builtins['cpd-quality-framework']['id']}", headers=await kit.h("n-gov")
    )
    assert diagnostic.status_code == 200 and diagnostic.headers["etag"]
    body = diagnostic.json()
    assert body["kind"] == "builtin" and body["latest_version"] == 2
    assert sorted(v["version"] for v in body["versions"]) == [1, 2]
    items = body["current"]["items"]
    assert Counter(i["section"] for i in items) == {
        "1": 6, "2": 8, "3": 7, "4": 7, "5": 5, "6": 6, "7": 5
    }  # fmt: skip
    by_key = {i["key"]: i for i in items}
    assert "3c" in by_key and by_key["3c"]["section"] == "3"
    assert by_key["3c"]["type"] == "agreement" and by_key["3c"]["points"] == 5
    assert by_key["3c"]["dont_know"] is True
    assert [s["key"] for s in body["current"]["sections"]] == list("1234567")
    principles = await kit.gw.get(
        f"/v1/instruments/{builtins['effective-cpd-principles']['id']}",
        headers=await kit.h("n-t1"),
    )
    paired = principles.json()["current"]["items"]
    assert [i["key"] for i in paired] == [str(n) for n in range(1, 9)]
    assert all(i["type"] == "paired_scale" and i["scale_max"] == 5 for i in paired)
    staff = await kit.gw.get(
        f"/v1/instruments/{builtins['staff-cpd-audit']['id']}", headers=await kit.h("n-t1")
    )
    staff_items = staff.json()["current"]["items"]
    assert {i["section"] for i in staff_items} == set("12345")
    assert all(i["points"] == 4 and i["dont_know"] and i["comment"] for i in staff_items)
    # Built-ins are read-only, for everyone.
    etag = diagnostic.headers["etag"]
    resp = await kit.gw.patch(
        f"/v1/instruments/{builtins['cpd-quality-framework']['id']}",
        json={"title": "Mine now"},
        headers={**await kit.h("admin"), "If-Match": etag},
    )
    assert resp.status_code == 403


async def test_custom_instrument_versions_freeze_once_used(kit: Any) -> None:
    body = {
        "key": "wellbeing-pulse",
        "title": "Wellbeing and CPD pulse",
        "sections": [{"key": "a", "title": "Time"}, {"key": "b", "title": "Support"}],
        "items": [
            {"key": "a1", "section": "a", "type": "agreement", "text": "I have time to learn."},
            {
                "key": "a2",
                "section": "a",
                "type": "paired_scale",
                "text": "Coaching",
                "scale_max": 7,
            },
            {
                "key": "b1",
                "section": "b",
                "type": "single_choice",
                "text": "Preferred format",
                "choices": [
                    {"key": "online", "label": "Online"},
                    {"key": "f2f", "label": "In person"},
                ],
            },
            {"key": "b2", "section": "b", "type": "free_text", "text": "Anything else?"},
        ],
    }
    resp = await kit.gw.post("/v1/instruments", json=body, headers=await kit.h("n-t1"))
    assert resp.status_code == 403
    resp = await kit.gw.post("/v1/instruments", json=body, headers=await kit.h("admin"))
    assert resp.status_code == 201, resp.text
    created = resp.json()
    url = resp.headers["location"]
    assert created["kind"] == "custom" and created["latest_version"] == 1
    assert created["current"]["items"][1]["values_label"] == "Fits our aims and values"
    assert created["current"]["items"][3]["required"] is False
    assert (
        await kit.gw.post("/v1/instruments", json=body, headers=await kit.h("admin"))
    ).status_code == 409
    # Validation: sections that do not exist, repeated keys, bad item types.
    broken = {
        "title": "Broken",
        "items": [
            {"key": "x", "section": "zz", "type": "agreement", "text": "t"},
            {"key": "x", "type": "agreement", "text": "t"},
        ],
    }
    assert (
        await kit.gw.post("/v1/instruments", json=broken, headers=await kit.h("admin"))
    ).status_code == 422
    odd = {"title": "Odd", "items": [{"key": "x", "type": "slider", "text": "t"}]}
    assert (
        await kit.gw.post("/v1/instruments", json=odd, headers=await kit.h("admin"))
    ).status_code == 422
    # Another trust cannot see it.
    assert (await kit.gw.get(url, headers=await kit.h("r-admin"))).status_code == 404

    # Unused: edited in place.
    etag = (await kit.gw.get(url, headers=await kit.h("admin"))).headers["etag"]
    resp = await kit.gw.patch(
        url,
        json={"items": body["items"][:3]},
        headers={**await kit.h("admin"), "If-Match": etag},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["latest_version"] == 1 and resp.json()["item_count"] == 3
    version_1 = resp.json()["current"]["id"]

    # Used by an audit: the next edit is version 2; version 1 stays as it was.
    await kit.create_audit(
        instrument_id=created["id"], scope={"kind": "school", "school_ids": [str(NORTHFIELD)]}
    )
    got = await kit.gw.get(url, headers=await kit.h("admin"))
    assert got.json()["versions"][0]["in_use"] is True
    resp = await kit.gw.patch(
        url,
        json={"title": "Wellbeing pulse", "items": body["items"]},
        headers={**await kit.h("admin"), "If-Match": got.headers["etag"]},
    )
    assert resp.status_code == 200, resp.text
    after = resp.json()
    assert after["latest_version"] == 2 and after["item_count"] == 4
    assert after["current"]["id"] != version_1 and after["title"] == "Wellbeing pulse"
    assert [v["version"] for v in after["versions"]] == [1, 2]
    old = await kit.gw.get(f"{url}/versions/1", headers=await kit.h("n-t1"))
    assert old.status_code == 200 and len(old.json()["items"]) == 3
    assert old.json()["title"] == "Wellbeing and CPD pulse" and old.json()["in_use"] is True
    assert (await kit.gw.get(f"{url}/versions/3", headers=await kit.h("admin"))).status_code == 404
    listed = await kit.gw.get("/v1/instruments?kind=custom", headers=await kit.h("admin"))
    assert [i["key"] for i in listed.json()["items"]] == ["wellbeing-pulse"]
    assert listed.json()["items"][0]["latest_version"] == 2
