"""The people picker (``GET /v1/people/search``) and ``q``/``sort`` on ``GET /v1/people``:
colleagues found by name, never anyone outside the caller's schools or trust, and sorted pages
that stay consistent across cursors."""

from __future__ import annotations

from typing import Any

import httpx

from cpd_common.testing.api import assert_problem
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, PEOPLE, SOUTHBANK
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
GOVERNOR = DEMO_CREDENTIALS["governor (Northfield)"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
QA_CLIENT = DEMO_CREDENTIALS["QA API client"]
BY_NAME = {p.name: p for p in PEOPLE}


async def search(stack: Stack, headers: dict[str, str], q: str, **params: Any) -> httpx.Response:
    return await stack.gateway.get("/v1/people/search", headers=headers, params={"q": q, **params})


async def names(stack: Stack, headers: dict[str, str], q: str) -> list[str]:
    resp = await search(stack, headers, q)
    assert resp.status_code == 200, resp.text
    return [c["display_name"] for c in resp.json()["items"]]


async def test_staff_find_colleagues_of_their_schools_and_see_only_id_name_school(
    seeded: Stack,
) -> None:
    teacher = await seeded.auth(*TEACHER)
    resp = await search(seeded, teacher, "mor")
    assert resp.status_code == 200, resp.text
    [alex] = resp.json()["items"]
    # Nothing more than id, display name and the schools they share with the caller (Alex is
    # in Southbank too, which the teacher is not).
    assert alex == {
        "id": str(BY_NAME["Alex Morgan"].id),
        "display_name": "Alex Morgan",
        "schools": [{"id": str(NORTHFIELD), "name": "Northfield Primary"}],
    }
    # Any word of the name, any case, several words all matching.
    assert await names(seeded, teacher, "PATEL") == ["Sam Patel"]
    assert await names(seeded, teacher, "sa") == ["Maria Santos", "Sam Patel"]
    assert await names(seeded, teacher, "sam pa") == ["Sam Patel"]
    assert await names(seeded, teacher, "atel") == []
    # Southbank's and the other trust's people are out of reach.
    assert await names(seeded, teacher, "khan") == []
    assert await names(seeded, teacher, "olsen") == []
    assert await names(seeded, await seeded.auth(*GOVERNOR), "patel") == ["Sam Patel"]
    # LIKE's wildcards are plain characters.
    assert await names(seeded, teacher, "%%") == []
    assert await names(seeded, teacher, "s_m") == []


async def test_trust_admins_search_the_whole_trust_and_no_other(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    resp = await search(seeded, admin, "khan")
    [aisha] = resp.json()["items"]
    assert aisha["schools"] == [{"id": str(SOUTHBANK), "name": "Southbank Academy"}]
    assert await names(seeded, admin, "olsen") == []
    riverside = await seeded.auth(*RIVERSIDE_ADMIN)
    assert await names(seeded, riverside, "patel") == []
    assert await names(seeded, riverside, "lane") == ["Victor Lane"]


async def test_inactive_people_are_not_offered_and_bad_queries_are_refused(
    seeded: Stack,
) -> None:
    admin = await seeded.auth(*ADMIN)
    teacher = await seeded.auth(*TEACHER)
    sam = BY_NAME["Sam Patel"].id
    got = await seeded.gateway.get(f"/v1/people/{sam}", headers=admin)
    changed = await seeded.gateway.patch(
        f"/v1/people/{sam}",
        headers={**admin, "If-Match": got.headers["etag"]},
        json={"active": False},
    )
    assert changed.status_code == 200
    assert await names(seeded, teacher, "patel") == []

    too_short = assert_problem(await search(seeded, teacher, "s"), 422)
    assert [e["loc"] for e in too_short["errors"]] == ["query.q"]
    assert_problem(await seeded.gateway.get("/v1/people/search", headers=teacher), 422)
    assert_problem(await search(seeded, teacher, "sa", limit=51), 422)
    qa = await seeded.client_token(*QA_CLIENT)
    assert_problem(await search(seeded, {"Authorization": f"Bearer {qa}"}, "sa"), 403)
    assert_problem(await search(seeded, {}, "sa"), 401)


async def test_the_picker_pages_by_name(seeded: Stack) -> None:
    teacher = await seeded.auth(*TEACHER)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = (await search(seeded, teacher, "sa", **params)).json()
        seen += [c["display_name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Maria Santos", "Sam Patel"]


async def collect(
    stack: Stack, headers: dict[str, str], params: dict[str, Any]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        resp = await stack.gateway.get(
            "/v1/people",
            headers=headers,
            params={**params, **({"cursor": cursor} if cursor else {})},
        )
        assert resp.status_code == 200, resp.text
        items += resp.json()["items"]
        cursor = resp.json()["next_cursor"]
        if cursor is None:
            return items


async def test_people_list_q_and_sort(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    oakridge = [p for p in PEOPLE if p.trust_id == BY_NAME["Alex Morgan"].trust_id]

    by_name = await collect(seeded, admin, {"sort": "name", "limit": 4})
    assert [p["name"] for p in by_name] == sorted((p.name for p in oakridge), key=str.lower)
    desc = await collect(seeded, admin, {"sort": "-name", "limit": 7})
    assert [p["name"] for p in desc] == sorted((p.name for p in oakridge), key=str.lower)[::-1]
    # Every seeded person has the same created_at: ties are broken by id, nothing is lost.
    by_created = await collect(seeded, admin, {"sort": "-created_at", "limit": 3})
    assert sorted(p["id"] for p in by_created) == sorted(str(p.id) for p in oakridge)
    keys = [(p["created_at"], p["id"]) for p in by_created]
    assert keys == sorted(keys, reverse=True)

    found = await collect(seeded, admin, {"q": "NORTHFIELD.example", "sort": "name"})
    assert len(found) == sum(1 for p in oakridge if p.email and "northfield" in p.email)
    assert [p["name"] for p in await collect(seeded, admin, {"q": "jess oka"})] == ["Jess Okafor"]
    assert await collect(seeded, admin, {"q": "%"}) == []

    bad = assert_problem(
        await seeded.gateway.get("/v1/people", headers=admin, params={"sort": "email"}), 422
    )
    assert [e["loc"] for e in bad["errors"]] == ["query.sort"]


async def test_a_sorted_cursor_is_stable_and_bound_to_its_sort(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    first = await seeded.gateway.get(
        "/v1/people", headers=admin, params={"sort": "name", "limit": 5}
    )
    page = first.json()
    cursor = page["next_cursor"]
    # Someone whose name sorts before the cursor arrives between two pages: the next page
    # neither repeats nor skips anyone.
    created = await seeded.gateway.post(
        "/v1/people", headers=admin, json={"name": "Aaron Abbot", "school_ids": []}
    )
    assert created.status_code == 201
    rest = await collect(seeded, admin, {"sort": "name", "limit": 5, "cursor": cursor})
    everyone = [p["name"] for p in page["items"]] + [p["name"] for p in rest]
    oakridge = [p.name for p in PEOPLE if p.trust_id == BY_NAME["Alex Morgan"].trust_id]
    assert everyone == sorted(oakridge, key=str.lower)

    other_sort = await seeded.gateway.get(
        "/v1/people", headers=admin, params={"sort": "-name", "cursor": cursor}
    )
    assert "sort=name" in assert_problem(other_sort, 422)["detail"]
    no_sort = await seeded.gateway.get("/v1/people", headers=admin, params={"cursor": cursor})
    assert_problem(no_sort, 422)
    id_cursor = (await seeded.gateway.get("/v1/people", headers=admin, params={"limit": 2})).json()[
        "next_cursor"
    ]
    assert_problem(
        await seeded.gateway.get(
            "/v1/people", headers=admin, params={"sort": "name", "cursor": id_cursor}
        ),
        422,
    )
    forged = await seeded.gateway.get(
        "/v1/people", headers=admin, params={"sort": "name", "cursor": "k.bm90LWpzb24"}
    )
    assert_problem(forged, 422)
