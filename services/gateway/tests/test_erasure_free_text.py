"""Erasure in the gateway leaves no name in what admins wrote: group names and descriptions,
API client names and stored replays of creates lose the erased person's real name."""

from __future__ import annotations

from sqlalchemy import text

from cpd_common.erasure import FORMER_MEMBER, name_pattern
from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_gateway.demo import DEMO_CREDENTIALS
from cpd_gateway.directory.erasure import FREE_TEXT
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
ERASED = PEOPLE_BY_KEY["n-t4"]


async def _naming(stack: Stack) -> dict[str, int]:
    out = {}
    async with stack.session("gateway") as session:
        for col in FREE_TEXT:
            out[f"{col.table}.{col.column}"] = int(
                (
                    await session.execute(
                        text(f"SELECT count(*) FROM {col.table} WHERE {col.column} ~* :p"),
                        {"p": name_pattern(ERASED.name)},
                    )
                ).scalar_one()
            )
    return out


async def test_erasure_takes_the_name_out_of_groups_clients_and_replays(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    name = ERASED.name
    group_body = {"name": f"{name}'s coaching triad", "description": f"Led by {name.upper()}"}
    group = await seeded.gateway.post(
        "/v1/groups", headers={**admin, "Idempotency-Key": "erase-group"}, json=group_body
    )
    assert group.status_code == 201, group.text
    client = await seeded.gateway.post(
        "/v1/clients",
        headers=admin,
        json={"name": f"Timetable sync set up by {name}", "roles": ["hr_integration"]},
    )
    assert client.status_code == 201, client.text
    assert [c for c, n in (await _naming(seeded)).items() if n == 0] == []

    erased = await seeded.gateway.post(f"/v1/people/{ERASED.id}/erase", headers=admin)
    assert erased.status_code == 202, erased.text

    assert {c: n for c, n in (await _naming(seeded)).items() if n} == {}
    got = await seeded.gateway.get(group.headers["location"], headers=admin)
    assert got.json()["name"] == f"{FORMER_MEMBER}'s coaching triad"
    assert got.json()["description"] == f"Led by {FORMER_MEMBER}"
    got_client = await seeded.gateway.get(client.headers["location"], headers=admin)
    assert name.lower() not in got_client.text.lower()
    replay = await seeded.gateway.post(
        "/v1/groups", headers={**admin, "Idempotency-Key": "erase-group"}, json=group_body
    )
    assert replay.status_code == 201, replay.text
    assert replay.json()["id"] == group.json()["id"]
    assert name.lower() not in replay.text.lower()
