"""Incremental sync of people: an erased person ends the sync as a tombstone; another trust's
erasures never appear."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]


async def synced(stack: Stack, headers: dict[str, str], since: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"updated_since": since, "limit": 1}
    while True:
        resp = await stack.gateway.get("/v1/people", headers=headers, params=params)
        assert resp.status_code == 200, resp.text
        items += resp.json()["items"]
        if not resp.json()["next_cursor"]:
            return items
        params["cursor"] = resp.json()["next_cursor"]


async def test_an_erased_person_is_a_tombstone_in_the_people_sync(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    since = datetime.now(UTC).isoformat()
    made = []
    for name in ("Sam Sync", "Kit Keep"):
        resp = await seeded.gateway.post(
            "/v1/people",
            headers=admin,
            json={
                "name": name,
                "email": f"sync-{uuid.uuid4().hex[:8]}@northfield.example",
                "school_ids": [str(NORTHFIELD)],
                "staff_group": "teacher",
                "department": "KS2",
                "career_stage": "ect",
                "fte": 0.8,
                "start_date": "2025-09-01",
                "roles": ["staff"],
            },
        )
        assert resp.status_code == 201, resp.text
        made.append(resp.json()["id"])
    erased = await seeded.gateway.post(f"/v1/people/{made[0]}/erase", headers=admin)
    assert erased.status_code == 202, erased.text

    items = await synced(seeded, admin, since)
    assert items[-1] == {"id": made[0], "deleted": True, "updated_at": items[-1]["updated_at"]}
    assert [i["id"] for i in items].count(made[1]) == 1
    assert {i["id"] for i in items} == set(made)
    # Riverside's sync of the same moment knows nothing of it.
    riverside = await seeded.auth(*RIVERSIDE_ADMIN)
    assert await synced(seeded, riverside, since) == []


async def test_the_sync_query_reads_the_trust_updated_at_id_index(seeded: Stack) -> None:
    """With 30,000 people in ten trusts, the sync page of one trust is an index range scan in
    (updated_at, id) order: no sort, no scan of the table."""
    async with seeded.session("gateway") as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO people (id, trust_id, name, school_ids, roles, active, created_at,"
                " updated_at) SELECT gen_random_uuid(),"
                " ('00000000-0000-0000-0000-00000000000' || (n % 10))::uuid, 'P ' || n,"
                " '{}', '{}', true, now(), now() - make_interval(secs => n)"
                " FROM generate_series(1, 30000) AS n"
            )
        )
    async with seeded.session("gateway") as session:
        await session.execute(text("ANALYZE people"))
        await session.commit()
        plan = await session.scalar(
            text(
                "EXPLAIN (FORMAT JSON) SELECT * FROM people WHERE trust_id = :t"
                " AND updated_at >= :since AND (updated_at, id) > (:at, :id)"
                " ORDER BY updated_at, id LIMIT 51"
            ),
            {
                "t": uuid.UUID(int=3),
                "since": datetime(2020, 1, 1, tzinfo=UTC),
                "at": datetime(2020, 1, 1, tzinfo=UTC),
                "id": uuid.UUID(int=0),
            },
        )
    shown = json.dumps(plan)
    assert "ix_people_trust_id_updated_at_id" in shown, shown
    assert '"Sort"' not in shown and "Seq Scan" not in shown, shown
