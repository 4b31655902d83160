"""Who sees what in the directory: by role within the trust, and nothing of it from another
trust (404 for every id)."""

from __future__ import annotations

import uuid

from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, RIVERSIDE, SOUTHBANK
from cpd_local.stack import Stack

from .directory_helpers import (
    ADMIN,
    GOVERNOR,
    LEADER,
    OAKRIDGE_PEOPLE,
    RIVERSIDE_ADMIN,
    TEACHER,
    assert_created,
    assert_problem,
    new_person,
)

# ---- who sees what ---------------------------------------------------------------------------


async def test_visibility_by_role(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    everyone = await seeded.gateway.get("/v1/people", headers=admin, params={"limit": 200})
    assert {p["id"] for p in everyone.json()["items"]} == {str(p.id) for p in OAKRIDGE_PEOPLE}

    # A school leader sees the people of their own schools only.
    leader = await seeded.auth(*LEADER)
    seen = (await seeded.gateway.get("/v1/people", headers=leader, params={"limit": 200})).json()
    expected = {str(p.id) for p in OAKRIDGE_PEOPLE if NORTHFIELD in p.school_ids}
    assert {p["id"] for p in seen["items"]} == expected
    assert all(str(NORTHFIELD) in p["school_ids"] for p in seen["items"])
    southbank_teacher = PEOPLE_BY_KEY["s-t1"].id
    assert_problem(await seeded.gateway.get(f"/v1/people/{southbank_teacher}", headers=leader), 404)
    northfield_teacher = PEOPLE_BY_KEY["n-t2"].id
    assert (
        await seeded.gateway.get(f"/v1/people/{northfield_teacher}", headers=leader)
    ).status_code == 200
    filtered = await seeded.gateway.get(
        "/v1/people", headers=leader, params={"school_id": str(SOUTHBANK), "limit": 200}
    )
    assert {p["id"] for p in filtered.json()["items"]} <= expected
    assert_problem(await seeded.gateway.post("/v1/people", headers=leader, json=new_person()), 403)
    got = await seeded.gateway.get(f"/v1/people/{northfield_teacher}", headers=leader)
    assert_problem(
        await seeded.gateway.patch(
            f"/v1/people/{northfield_teacher}",
            headers={**leader, "If-Match": got.headers["etag"]},
            json={"department": "KS1"},
        ),
        403,
    )

    # Staff and governors see only themselves.
    for login, key in ((TEACHER, "n-t1"), (GOVERNOR, "n-gov")):
        headers = await seeded.auth(*login)
        me = str(PEOPLE_BY_KEY[key].id)
        listed = await seeded.gateway.get("/v1/people", headers=headers)
        assert [p["id"] for p in listed.json()["items"]] == [me], login
        assert (await seeded.gateway.get(f"/v1/people/{me}", headers=headers)).status_code == 200
        for other in (northfield_teacher, PEOPLE_BY_KEY["admin"].id):
            assert_problem(await seeded.gateway.get(f"/v1/people/{other}", headers=headers), 404)
        assert_problem(await seeded.gateway.get("/v1/groups", headers=headers), 403)
        assert_problem(await seeded.gateway.get("/v1/clients", headers=headers), 403)
        schools = await seeded.gateway.get("/v1/schools", headers=headers)
        assert {s["id"] for s in schools.json()["items"]} == {str(NORTHFIELD), str(SOUTHBANK)}

    assert_problem(await seeded.gateway.get("/v1/people"), 401)


async def test_another_trust_gets_404_for_every_oakridge_id(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    group = assert_created(
        await seeded.gateway.post(
            "/v1/groups",
            headers=admin,
            json={"name": "Maths", "member_ids": [str(PEOPLE_BY_KEY["s-t1"].id)]},
        ),
        "/v1/groups",
    )
    clients = (await seeded.gateway.get("/v1/clients", headers=admin)).json()["items"]
    person = PEOPLE_BY_KEY["n-t1"].id

    riverside = await seeded.auth(*RIVERSIDE_ADMIN)
    missing = uuid.uuid4()
    for collection, oak_id in (
        ("schools", NORTHFIELD),
        ("people", person),
        ("groups", group["id"]),
        ("clients", clients[0]["id"]),
        ("trusts", OAKRIDGE),
    ):
        foreign = assert_problem(
            await seeded.gateway.get(f"/v1/{collection}/{oak_id}", headers=riverside), 404
        )
        absent = assert_problem(
            await seeded.gateway.get(f"/v1/{collection}/{missing}", headers=riverside), 404
        )
        # Exactly as a missing one: nothing tells the other tenant the id exists.
        assert (foreign["title"], foreign["detail"]) == (absent["title"], absent["detail"])
    for collection, oak_id in (
        ("schools", NORTHFIELD),
        ("people", person),
        ("groups", group["id"]),
    ):
        resp = await seeded.gateway.patch(
            f"/v1/{collection}/{oak_id}", headers={**riverside, "If-Match": "*"}, json={"name": "X"}
        )
        assert_problem(resp, 404)
    assert_problem(await seeded.gateway.post(f"/v1/people/{person}/erase", headers=riverside), 404)
    assert_problem(await seeded.gateway.get(f"/v1/people/{person}/erasure", headers=riverside), 404)
    assert_problem(await seeded.gateway.delete(f"/v1/groups/{group['id']}", headers=riverside), 404)
    assert_problem(
        await seeded.gateway.delete(f"/v1/clients/{clients[0]['id']}", headers=riverside), 404
    )
    # Lists hold only the caller's trust.
    for collection in ("schools", "people", "groups", "clients"):
        items = (
            await seeded.gateway.get(f"/v1/{collection}", headers=riverside, params={"limit": 200})
        ).json()["items"]
        assert all(i["trust_id"] == str(RIVERSIDE) for i in items), collection
    # Nothing was changed by the other tenant.
    assert (await seeded.gateway.get(f"/v1/groups/{group['id']}", headers=admin)).json()[
        "name"
    ] == "Maths"
    assert (await seeded.gateway.get(f"/v1/people/{person}", headers=admin)).json()[
        "erased_at"
    ] is None
    # And the other way round.
    assert_problem(
        await seeded.gateway.get(f"/v1/people/{PEOPLE_BY_KEY['r-t1'].id}", headers=admin), 404
    )
