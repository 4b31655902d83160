"""Incremental sync of audits and needs: a deleted draft audit and the needs erased with a
person come back as tombstones in the sync of their lists, for their own trust only, until
housekeeping prunes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, update

from cpd_audit.erasure import erase_person_plans
from cpd_audit.models import Tombstone
from cpd_common import tombstones
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK

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


async def test_needs_erased_with_a_person_are_tombstones_until_pruned(kit: AuditKit) -> None:
    person = PEOPLE_BY_KEY["s-t2"]
    leader = await kit.h("s-head")
    since = datetime.now(UTC).isoformat()
    resp = await kit.gw.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(SOUTHBANK),
            "level": "individual",
            "person_id": str(person.id),
            "title": "Questioning in year 8 science",
            "need_types": ["skills"],
        },
    )
    assert resp.status_code == 201, resp.text
    need = resp.json()["id"]
    async with kit.stack.session("audit") as session, session.begin():
        await erase_person_plans(session, person.id)

    items = await synced(kit, "/v1/needs", "s-head", since)
    assert [(i["id"], i.get("deleted")) for i in items] == [(need, True)]
    assert await synced(kit, "/v1/needs", "r-admin", since) == []

    # Housekeeping forgets tombstones once they are past their 35 days.
    async with kit.stack.session("audit") as session, session.begin():
        await session.execute(update(Tombstone).values(deleted_at=func.now() - timedelta(days=36)))
        await tombstones.prune_expired(session)
    assert await synced(kit, "/v1/needs", "s-head", since) == []
