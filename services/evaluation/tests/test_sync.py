"""Incremental sync (``?updated_since=``) on a list: changes in (updated_at, id) order, each
exactly once even when many share a timestamp, deletions as tombstones, one trust only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from cpd_demo.trust import RIVERSIDE_HIGH
from cpd_local.stack import Stack

from .conftest import Api

SAME_TIME = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def sync(api: Api, who: str, since: str, *, limit: int = 2) -> list[dict[str, Any]]:
    """Every item of a sync from ``since``, page by page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"updated_since": since, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = (await api.call("GET", "", who, params=params)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_paging_over_rows_sharing_a_timestamp_returns_each_change_once(
    demo: Stack, api: Api
) -> None:
    made = [(await api.create_activity(title=f"Sync {n}"))["id"] for n in range(5)]
    gone = made.pop()
    await api.delete(f"/{gone}", "n-head")
    # Another trust's activity and deletion at the very same time never appear.
    theirs = await api.create_activity(
        "r-admin", title="Riverside only", school_ids=[str(RIVERSIDE_HIGH)]
    )
    theirs_gone = await api.create_activity(
        "r-admin", title="Riverside gone", school_ids=[str(RIVERSIDE_HIGH)]
    )
    await api.delete(f"/{theirs_gone['id']}", "r-admin")
    async with demo.session("evaluation") as session:
        await session.execute(
            text(
                "UPDATE activities SET updated_at = :t WHERE title LIKE 'Sync %' OR title LIKE 'Riverside%'"
            ),
            {"t": SAME_TIME},
        )
        await session.execute(text("UPDATE tombstones SET deleted_at = :t"), {"t": SAME_TIME})
        await session.commit()

    items = await sync(api, "n-head", "2030-01-01T12:00:00Z", limit=2)
    ids = [i["id"] for i in items]
    assert sorted(ids) == sorted([*made, gone]) and len(ids) == len(set(ids))
    assert ids == sorted(ids)  # one timestamp: the id orders them
    [tombstone] = [i for i in items if i.get("deleted")]
    assert tombstone == {"id": gone, "deleted": True, "updated_at": "2030-01-01T12:00:00Z"}
    live = [i for i in items if not i.get("deleted")]
    assert all(i["title"].startswith("Sync") for i in live)

    # Page sizes do not change what is seen; a later time sees nothing.
    assert [i["id"] for i in await sync(api, "n-head", "2030-01-01T12:00:00Z", limit=1)] == ids
    assert await sync(api, "n-head", "2030-01-01T12:00:00.000001Z") == []
    # The other trust sees its own, tombstone included, and none of ours.
    riverside = await sync(api, "r-admin", "2030-01-01T12:00:00+00:00", limit=1)
    assert [i["id"] for i in riverside] == sorted([theirs["id"], theirs_gone["id"]])
    assert next(i for i in riverside if i["id"] == theirs_gone["id"])["deleted"] is True

    # A change is seen by a sync from just before it, in its time's place.
    first = ids[0]
    before = datetime.now(UTC).isoformat()
    current = await api.call("GET", f"/{first}", "n-head")
    await api.call(
        "PATCH",
        f"/{first}",
        "n-head",
        json={"title": "Sync renamed"},
        headers={"If-Match": current.headers["etag"]},
        expect=200,
    )
    later = await sync(api, "n-head", before, limit=3)
    # (the rows stamped in 2030 come after it, each once)
    assert (later[0]["id"], later[0]["title"]) == (first, "Sync renamed")
    assert [i["id"] for i in later[1:]] == ids[1:]


async def test_malformed_updated_since_or_a_foreign_cursor_is_422(api: Api) -> None:
    for bad in (
        "yesterday",
        "2026-12-01",
        "2026-12-01T08:00:00",
        "1700000000",
        "2026-13-01T00:00:00Z",
    ):
        resp = await api.call("GET", "", "n-head", params={"updated_since": bad}, expect=422)
        assert resp.json()["errors"][0]["loc"] == "query.updated_since"
    for _ in range(2):
        await api.create_activity()
    page = (await api.call("GET", "", "n-head", params={"limit": 1})).json()
    await api.call(
        "GET",
        "",
        "n-head",
        params={"updated_since": "2020-01-01T00:00:00Z", "cursor": page["next_cursor"]},
        expect=422,
    )
    synced = (
        await api.call(
            "GET", "", "n-head", params={"updated_since": "2020-01-01T00:00:00Z", "limit": 1}
        )
    ).json()
    await api.call("GET", "", "n-head", params={"cursor": synced["next_cursor"]}, expect=422)
