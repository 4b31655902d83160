"""Incremental sync of a nested list (issue 14): a deleted time record comes back as a
tombstone in its own study's time-records sync, exactly once while paging over rows that share
one timestamp, and never in another study's list or to another trust."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from cpd_local.stack import Stack

from .conftest import Api, days_ago, member_ids
from .lesson_helpers import GROUP

SAME_TIME = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SINCE = "2030-01-01T12:00:00Z"


async def synced(api: Api, path: str, who: str, *, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"updated_since": SINCE, "limit": limit}
    while True:
        page = await api.get(path, who, params=params)
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        params["cursor"] = page["next_cursor"]


async def test_a_deleted_time_record_is_a_tombstone_of_its_study_only(
    demo: Stack, api: Api
) -> None:
    study = await api.create_study("n-t6", {**GROUP})
    other = await api.create_study("n-t6", {**GROUP})
    sid, ids = study["id"], member_ids(study)
    records = [
        await api.post(
            f"/{sid}/time-records",
            "n-t6",
            {
                "kind": "planning",
                "held_on": days_ago(n + 1),
                "attendance": [{"member_id": ids["n-t1"], "minutes": 30 + n}],
            },
        )
        for n in range(4)
    ]
    gone = records.pop(1)["id"]
    await api.delete(f"/{sid}/time-records/{gone}", "n-t6")
    async with demo.session("lessonstudy") as session:
        await session.execute(text("UPDATE time_records SET updated_at = :t"), {"t": SAME_TIME})
        await session.execute(text("UPDATE tombstones SET deleted_at = :t"), {"t": SAME_TIME})
        await session.commit()

    expected = sorted([*(r["id"] for r in records), gone])
    for limit in (1, 2, 5):
        items = await synced(api, f"/{sid}/time-records", "n-t6", limit=limit)
        assert [i["id"] for i in items] == expected  # each once, (updated_at, id) order
        [tombstone] = [i for i in items if i.get("deleted")]
        assert tombstone == {"id": gone, "deleted": True, "updated_at": SINCE}
    # A member reads the same; the other study's list has no tombstone of it.
    assert [i["id"] for i in await synced(api, f"/{sid}/time-records", "n-t1", limit=3)] == expected
    assert await synced(api, f"/{other['id']}/time-records", "n-t6", limit=5) == []
    # Another trust: the study is not theirs (404), and no list of theirs shows the tombstone.
    await api.call("GET", f"/{sid}/time-records", "r-admin", expect=404)
    assert await synced(api, "", "r-admin", limit=5) == []
