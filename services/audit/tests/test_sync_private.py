"""Incremental sync of private resources (issue 14): a deleted career plan's tombstone goes
only to the people who could read it (the owner and the mentor it was shared with), never to
a leader, a trust admin or another trust, who cannot tell it existed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_local.stack import Stack

from .test_career_plans import MENTOR, OWNER, create_plan

OUTSIDERS = ("admin", "s-head", "s-t1", "r-admin")


async def synced(stack: Stack, path: str, who: Any, since: str) -> list[dict[str, Any]]:
    headers = await stack.headers_for(who)
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"updated_since": since, "limit": 1}
    while True:
        resp = await stack.gateway.get(path, headers=headers, params=params)
        assert resp.status_code == 200, resp.text
        items += resp.json()["items"]
        if not resp.json()["next_cursor"]:
            return items
        params["cursor"] = resp.json()["next_cursor"]


async def test_a_deleted_career_plan_is_a_tombstone_for_its_readers_only(demo: Stack) -> None:
    since = datetime.now(UTC).isoformat()
    owner = await demo.headers_for(OWNER.id)
    plan = await create_plan(demo, owner)
    url = f"/v1/career-plans/{plan['id']}"
    shared = await demo.gateway.post(
        f"{url}/share", headers=owner, json={"mentor_id": str(MENTOR.id)}
    )
    assert shared.status_code in (200, 201), shared.text
    etag = (await demo.gateway.get(url, headers=owner)).headers["etag"]
    deleted = await demo.gateway.delete(url, headers={**owner, "If-Match": etag})
    assert deleted.status_code == 204, deleted.text

    for reader in (OWNER.id, MENTOR.id):
        items = await synced(demo, "/v1/career-plans", reader, since)
        assert items == [{"id": plan["id"], "deleted": True, "updated_at": items[0]["updated_at"]}]
    for key in OUTSIDERS:
        assert await synced(demo, "/v1/career-plans", PEOPLE_BY_KEY[key].id, since) == []
