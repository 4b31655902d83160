"""Incremental sync of audits: a deleted draft audit comes back as a tombstone in the sync of
the list, for its own trust only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cpd_demo.trust import NORTHFIELD

from .conftest import AuditKit


async def synced(kit: AuditKit, path: str, who: str, since: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"updated_since": since, "limit": 1}
    while True:
        resp = await kit.gw.get(path, headers=await kit.h(who), params=params)
        assert resp.status_code == 200, resp.text
        items += resp.json()["items"]
        if not resp.json()["next_cursor"]:
            return items
        params["cursor"] = resp.json()["next_cursor"]


async def test_a_deleted_draft_audit_is_a_tombstone(kit: AuditKit) -> None:
    since = datetime.now(UTC).isoformat()
    principles = await kit.instrument_id("effective-cpd-principles")
    scope = {"kind": "school", "school_ids": [str(NORTHFIELD)]}
    kept = await kit.create_audit(instrument_id=principles, scope=scope, as_="n-head", k=3)
    draft = await kit.create_audit(instrument_id=principles, scope=scope, as_="n-head", k=3)
    url = f"/v1/audits/{draft['id']}"
    leader = await kit.h("n-head")
    got = await kit.gw.get(url, headers=leader)
    deleted = await kit.gw.delete(url, headers={**leader, "If-Match": got.headers["etag"]})
    assert deleted.status_code == 204, deleted.text

    items = await synced(kit, "/v1/audits", "n-head", since)
    assert [i["id"] for i in items] == [kept["id"], draft["id"]]
    assert items[0]["status"] == "draft" and "deleted" not in items[0]
    assert items[1]["deleted"] is True and set(items[1]) == {"id", "deleted", "updated_at"}
    # Another trust sees neither the audit nor its tombstone.
    assert await synced(kit, "/v1/audits", "r-admin", since) == []
