"""The directory through the gateway: schools, people, groups, API clients and the trust,
with the API conventions (201 + Location + ETag, If-Match, problem+json, pagination,
Idempotency-Key), role and tenant visibility, directory events and right to erasure.

The demo trust is seeded once per session into a template database that every test copies.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import (
    DEMO_CREDENTIALS,
    NORTHFIELD,
    OAKRIDGE,
    PEOPLE,
    PEOPLE_BY_KEY,
    RIVERSIDE,
    RIVERSIDE_HIGH,
    SOUTHBANK,
)
from cpd_gateway.directory.erasure import ERASED_NAME
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
LEADER = DEMO_CREDENTIALS["school leader (Northfield)"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
GOVERNOR = DEMO_CREDENTIALS["governor (Northfield)"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
OAKRIDGE_PEOPLE = [p for p in PEOPLE if p.trust_id == OAKRIDGE]
DOMAIN_SERVICES = ("audit", "lessonstudy", "evaluation")

# ---- helpers ---------------------------------------------------------------------------------


def assert_problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in resp.text
    return body


def error_locs(body: dict[str, Any]) -> list[str]:
    for err in body["errors"]:
        assert isinstance(err["loc"], str) and isinstance(err["msg"], str), err
    return [e["loc"] for e in body["errors"]]


def assert_created(resp: httpx.Response, collection: str) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert resp.headers["location"] == f"{collection}/{body['id']}"
    assert resp.headers["etag"].startswith('"')
    uuid.UUID(body["id"])
    return body


async def check_preconditions(
    stack: Stack,
    headers: dict[str, str],
    url: str,
    change: dict[str, Any],
    check: str,
) -> httpx.Response:
    """GET has an ETag; PATCH without If-Match is 428, with a stale one 412, with the fresh one
    200 (and a new ETag that a GET then agrees with, and that works for the next PATCH)."""
    got = await stack.gateway.get(url, headers=headers)
    assert got.status_code == 200, got.text
    etag = got.headers["etag"]

    missing = await stack.gateway.patch(url, headers=headers, json=change)
    assert "If-Match" in assert_problem(missing, 428)["detail"]
    stale = await stack.gateway.patch(
        url, headers={**headers, "If-Match": '"0123456789abcdef01234567"'}, json=change
    )
    assert_problem(stale, 412)
    unknown_field = await stack.gateway.patch(
        url, headers={**headers, "If-Match": etag}, json={**change, "colour": "red"}
    )
    assert error_locs(assert_problem(unknown_field, 422)) == ["body.colour"]
    unchanged = await stack.gateway.get(url, headers=headers)
    assert unchanged.headers["etag"] == etag, "a refused PATCH must change nothing"

    done = await stack.gateway.patch(url, headers={**headers, "If-Match": etag}, json=change)
    assert done.status_code == 200, done.text
    assert done.json()[check] == change[check]
    new_etag = done.headers["etag"]
    assert new_etag != etag
    again = await stack.gateway.get(url, headers=headers)
    assert again.headers["etag"] == new_etag
    assert again.json() == done.json()
    # The old ETag is stale now.
    assert_problem(
        await stack.gateway.patch(url, headers={**headers, "If-Match": etag}, json=change), 412
    )
    return done


async def outbox_events(stack: Stack, event_type: str, subject: str) -> list[dict[str, Any]]:
    async with stack.session("gateway") as session:
        rows = await session.execute(
            text(
                "SELECT envelope FROM outbox WHERE type = :type AND envelope->>'subject' = :subject"
                " ORDER BY seq"
            ),
            {"type": event_type, "subject": subject},
        )
        return [r.envelope for r in rows]


async def all_pages(
    stack: Stack, headers: dict[str, str], url: str, limit: int, **filters: Any
) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **filters}
        if cursor:
            params["cursor"] = cursor
        resp = await stack.gateway.get(url, headers=headers, params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


def new_person(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Robin Ellis",
        "email": f"robin-{uuid.uuid4().hex[:8]}@northfield.example",
        "school_ids": [str(NORTHFIELD)],
        "staff_group": "teacher",
        "department": "KS2",
        "career_stage": "ect",
        "fte": 0.8,
        "start_date": "2025-09-01",
        "roles": ["staff"],
    }
    body.update(overrides)
    return body


# ---- CRUD ------------------------------------------------------------------------------------


async def test_schools_create_read_update_with_etags(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    created = await seeded.gateway.post(
        "/v1/schools", headers=admin, json={"name": "Westgate Primary", "phase": "primary"}
    )
    school = assert_created(created, "/v1/schools")
    assert school["trust_id"] == str(OAKRIDGE)
    assert school["name"] == "Westgate Primary" and school["phase"] == "primary"

    got = await seeded.gateway.get(created.headers["location"], headers=admin)
    assert got.status_code == 200
    assert got.json() == school
    assert got.headers["etag"] == created.headers["etag"]
    listed = await seeded.gateway.get("/v1/schools", headers=admin)
    assert school["id"] in {s["id"] for s in listed.json()["items"]}

    await check_preconditions(
        seeded, admin, f"/v1/schools/{school['id']}", {"name": "Westgate Academy"}, "name"
    )
    # Creating and renaming each published directory.school.upserted.
    events = await outbox_events(seeded, catalogue.SchoolUpserted.event_type, school["id"])
    assert [e["data"]["name"] for e in events] == ["Westgate Primary", "Westgate Academy"]

    leader = await seeded.auth(*LEADER)
    assert_problem(
        await seeded.gateway.post("/v1/schools", headers=leader, json={"name": "Nope"}), 403
    )


async def test_people_create_read_update_with_etags(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    data = new_person(line_manager_id=str(PEOPLE_BY_KEY["n-deputy"].id), external_id="HR-1")
    created = await seeded.gateway.post("/v1/people", headers=admin, json=data)
    person = assert_created(created, "/v1/people")
    for key in ("name", "email", "staff_group", "department", "career_stage", "fte", "roles"):
        assert person[key] == data[key], key
    assert person["school_ids"] == [str(NORTHFIELD)]
    assert person["start_date"] == "2025-09-01"
    assert person["line_manager_id"] == str(PEOPLE_BY_KEY["n-deputy"].id)
    assert person["active"] is True and person["erased_at"] is None
    assert person["has_login"] is False and "password" not in person

    got = await seeded.gateway.get(created.headers["location"], headers=admin)
    assert got.json() == person
    assert got.headers["etag"] == created.headers["etag"]

    done = await check_preconditions(
        seeded, admin, f"/v1/people/{person['id']}", {"department": "KS1"}, "department"
    )
    # The ETag of a PATCH response is good for the next PATCH.
    chained = await seeded.gateway.patch(
        f"/v1/people/{person['id']}",
        headers={**admin, "If-Match": done.headers["etag"]},
        json={"school_ids": [str(NORTHFIELD), str(SOUTHBANK)], "fte": 1.0},
    )
    assert chained.status_code == 200, chained.text
    assert chained.json()["school_ids"] == [str(NORTHFIELD), str(SOUTHBANK)]
    # `If-Match: *` matches any current version.
    star = await seeded.gateway.patch(
        f"/v1/people/{person['id']}", headers={**admin, "If-Match": "*"}, json={"name": "R. Ellis"}
    )
    assert star.status_code == 200 and star.json()["name"] == "R. Ellis"

    # A password makes a login.
    login = await seeded.gateway.post(
        "/v1/people",
        headers=admin,
        json=new_person(email="login.test@northfield.example", password="a-long-password-2026"),
    )
    assert assert_created(login, "/v1/people")["has_login"] is True
    token = await seeded.token("login.test@northfield.example", "a-long-password-2026")
    assert token


async def test_groups_create_read_update_delete(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    members = [str(PEOPLE_BY_KEY[k].id) for k in ("n-t1", "n-t2", "n-t1")]
    created = await seeded.gateway.post(
        "/v1/groups",
        headers=admin,
        json={"name": "KS2 team", "school_id": str(NORTHFIELD), "member_ids": members},
    )
    group = assert_created(created, "/v1/groups")
    assert group["member_ids"] == members[:2], "members are de-duplicated, order kept"
    got = await seeded.gateway.get(created.headers["location"], headers=admin)
    assert got.json() == group and got.headers["etag"] == created.headers["etag"]

    await check_preconditions(
        seeded, admin, f"/v1/groups/{group['id']}", {"name": "Upper KS2"}, "name"
    )

    # Leaders of the group's school may read it; staff may not.
    leader = await seeded.auth(*LEADER)
    assert (
        await seeded.gateway.get(f"/v1/groups/{group['id']}", headers=leader)
    ).status_code == 200
    teacher = await seeded.auth(*TEACHER)
    assert_problem(await seeded.gateway.get(f"/v1/groups/{group['id']}", headers=teacher), 404)
    assert_problem(await seeded.gateway.get("/v1/groups", headers=teacher), 403)

    foreign_member = await seeded.gateway.post(
        "/v1/groups",
        headers=admin,
        json={"name": "Mixed", "member_ids": [str(PEOPLE_BY_KEY["r-t1"].id)]},
    )
    assert error_locs(assert_problem(foreign_member, 422)) == ["body.member_ids.0"]

    group_url = f"/v1/groups/{group['id']}"
    assert_problem(await seeded.gateway.delete(group_url, headers=admin), 428)
    stale = {**admin, "If-Match": '"stale"'}
    assert_problem(await seeded.gateway.delete(group_url, headers=stale), 412)
    etag = (await seeded.gateway.get(group_url, headers=admin)).headers["etag"]
    deleted = await seeded.gateway.delete(group_url, headers={**admin, "If-Match": etag})
    assert deleted.status_code == 204
    assert_problem(await seeded.gateway.get(f"/v1/groups/{group['id']}", headers=admin), 404)


async def test_api_clients_create_read_list_revoke(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    created = await seeded.gateway.post(
        "/v1/clients",
        headers=admin,
        json={
            "name": "Ofsted-style QA",
            "roles": ["qa_reader"],
            "scopes": ["metrics:read"],
        },
    )
    client = assert_created(created, "/v1/clients")
    secret = client["client_secret"]
    assert len(secret) >= 32
    assert client["active"] is True and client["roles"] == ["qa_reader"]

    got = await seeded.gateway.get(created.headers["location"], headers=admin)
    assert got.status_code == 200 and got.headers["etag"]
    assert "client_secret" not in got.json(), "the secret is shown once, on creation"
    assert secret not in got.text
    listed = await seeded.gateway.get("/v1/clients", headers=admin)
    assert client["client_id"] in {c["client_id"] for c in listed.json()["items"]}
    assert secret not in listed.text

    token = await seeded.client_token(client["client_id"], secret)
    assert token
    # Ids are generated: a caller cannot choose one (tests/test_client_secrets.py).
    chosen = await seeded.gateway.post(
        "/v1/clients",
        headers=admin,
        json={"name": "Again", "client_id": client["client_id"], "roles": ["qa_reader"]},
    )
    assert error_locs(assert_problem(chosen, 422)) == ["body.client_id"]
    no_roles = await seeded.gateway.post(
        "/v1/clients", headers=admin, json={"name": "No roles", "roles": []}
    )
    assert error_locs(assert_problem(no_roles, 422)) == ["body.roles"]

    client_url = f"/v1/clients/{client['id']}"
    assert_problem(await seeded.gateway.delete(client_url, headers=admin), 428)
    stale = {**admin, "If-Match": '"stale"'}
    assert_problem(await seeded.gateway.delete(client_url, headers=stale), 412)
    etag = (await seeded.gateway.get(client_url, headers=admin)).headers["etag"]
    revoked = await seeded.gateway.delete(client_url, headers={**admin, "If-Match": etag})
    assert revoked.status_code == 204
    assert (await seeded.gateway.get(f"/v1/clients/{client['id']}", headers=admin)).json()[
        "active"
    ] is False
    refused = await seeded.gateway.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": secret,
        },
    )
    assert_problem(refused, 401)

    leader = await seeded.auth(*LEADER)
    assert_problem(await seeded.gateway.get("/v1/clients", headers=leader), 403)
    assert_problem(await seeded.gateway.get(f"/v1/clients/{client['id']}", headers=leader), 404)


async def test_trust_read_and_rename(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    listed = await seeded.gateway.get("/v1/trusts", headers=admin)
    assert [t["id"] for t in listed.json()["items"]] == [str(OAKRIDGE)]
    await check_preconditions(
        seeded, admin, f"/v1/trusts/{OAKRIDGE}", {"name": "Oakridge Trust"}, "name"
    )
    leader = await seeded.auth(*LEADER)
    assert_problem(
        await seeded.gateway.patch(
            f"/v1/trusts/{OAKRIDGE}", headers={**leader, "If-Match": "*"}, json={"name": "Mine"}
        ),
        403,
    )
    assert_problem(await seeded.gateway.get(f"/v1/trusts/{RIVERSIDE}", headers=admin), 404)


# ---- validation and conflicts ----------------------------------------------------------------


async def test_invalid_person_bodies_are_422_with_field_errors(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    cases = {
        "unknown field": (new_person(nickname="Rob"), ["body.nickname"]),
        "unknown school": (new_person(school_ids=[str(uuid.uuid4())]), ["body.school_ids.0"]),
        "another trust's school": (
            new_person(school_ids=[str(NORTHFIELD), str(RIVERSIDE_HIGH)]),
            ["body.school_ids.1"],
        ),
        "not a school id": (new_person(school_ids=["northfield"]), ["body.school_ids.0"]),
        "invalid email": (new_person(email="robin.at.northfield"), ["body.email"]),
        "unknown staff group": (new_person(staff_group="wizard"), ["body.staff_group"]),
        "fte above 1": (new_person(fte=1.5), ["body.fte"]),
        "empty name": (new_person(name=""), ["body.name"]),
        "unknown role": (new_person(roles=["superuser"]), ["body.roles.0"]),
        "manager in another trust": (
            new_person(line_manager_id=str(PEOPLE_BY_KEY["r-admin"].id)),
            ["body.line_manager_id"],
        ),
        "password without email": (
            new_person(email=None, password="a-long-password-2026"),
            ["body.email"],
        ),
    }
    for name, (body, locs) in cases.items():
        resp = await seeded.gateway.post("/v1/people", headers=admin, json=body)
        problem = assert_problem(resp, 422)
        assert error_locs(problem) == locs, (name, problem)
        if name == "unknown field":
            assert problem["errors"][0]["msg"] == "unknown field"
    not_json = await seeded.gateway.post(
        "/v1/people",
        headers={**admin, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert_problem(not_json, 422)
    bad_id = await seeded.gateway.get("/v1/people/not-a-uuid", headers=admin)
    assert error_locs(assert_problem(bad_id, 422)) == ["path.person_id"]

    # Nothing was created by any of these.
    people = await seeded.gateway.get("/v1/people", headers=admin, params={"limit": 200})
    assert len(people.json()["items"]) == len(OAKRIDGE_PEOPLE)


async def test_duplicate_email_is_409(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    for email in (TEACHER[0], TEACHER[0].upper(), "admin@oakridge.example"):
        resp = await seeded.gateway.post("/v1/people", headers=admin, json=new_person(email=email))
        assert_problem(resp, 409)
    other = PEOPLE_BY_KEY["n-t2"].id
    got = await seeded.gateway.get(f"/v1/people/{other}", headers=admin)
    patched = await seeded.gateway.patch(
        f"/v1/people/{other}",
        headers={**admin, "If-Match": got.headers["etag"]},
        json={"email": TEACHER[0]},
    )
    assert_problem(patched, 409)


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


# ---- pagination ------------------------------------------------------------------------------


async def test_people_pagination_walks_every_page_once(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    pages = await all_pages(seeded, admin, "/v1/people", limit=5)
    ids = [p["id"] for page in pages for p in page]
    assert all(len(page) == 5 for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= 5
    assert len(pages) == -(-len(OAKRIDGE_PEOPLE) // 5)
    assert len(ids) == len(set(ids)), "a person appeared on two pages"
    assert set(ids) == {str(p.id) for p in OAKRIDGE_PEOPLE}
    assert ids == sorted(ids, key=uuid.UUID), "stable order by id"

    default = (await seeded.gateway.get("/v1/people", headers=admin)).json()
    assert len(default["items"]) == len(OAKRIDGE_PEOPLE) and default["next_cursor"] is None
    maximum = await seeded.gateway.get("/v1/people", headers=admin, params={"limit": 200})
    assert maximum.status_code == 200

    # Pages of a filtered list are filtered too.
    teachers = await all_pages(seeded, admin, "/v1/people", limit=4, staff_group="teacher")
    got = [p for page in teachers for p in page]
    assert {p["id"] for p in got} == {
        str(p.id) for p in OAKRIDGE_PEOPLE if p.staff_group == "teacher"
    }

    for params, loc in (
        ({"limit": 201}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
    ):
        resp = await seeded.gateway.get("/v1/people", headers=admin, params=params)
        assert error_locs(assert_problem(resp, 422)) == [loc], params


# ---- Idempotency-Key -------------------------------------------------------------------------


async def _count_people_with_email(stack: Stack, email: str) -> int:
    async with stack.session("gateway") as session:
        return int(
            await session.scalar(
                text("SELECT count(*) FROM people WHERE lower(email) = lower(:e)"), {"e": email}
            )
        )


async def test_idempotency_key_replays_the_first_response(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    body = new_person()
    key = {"Idempotency-Key": f"create-{uuid.uuid4()}"}
    first = await seeded.gateway.post("/v1/people", headers={**admin, **key}, json=body)
    person = assert_created(first, "/v1/people")
    assert "idempotent-replayed" not in first.headers

    replay = await seeded.gateway.post("/v1/people", headers={**admin, **key}, json=body)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == person
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["etag"] == first.headers["etag"]
    assert await _count_people_with_email(seeded, body["email"]) == 1
    assert len(await outbox_events(seeded, catalogue.PersonUpserted.event_type, person["id"])) == 1

    changed = await seeded.gateway.post(
        "/v1/people", headers={**admin, **key}, json={**body, "name": "Someone Else"}
    )
    assert "Idempotency-Key" in assert_problem(changed, 409)["detail"]
    assert await _count_people_with_email(seeded, body["email"]) == 1

    # Keys belong to the caller: another tenant's admin using the same key creates its own.
    riverside = await seeded.auth(*RIVERSIDE_ADMIN)
    theirs = new_person(school_ids=[str(RIVERSIDE_HIGH)])
    other = await seeded.gateway.post("/v1/people", headers={**riverside, **key}, json=theirs)
    assert assert_created(other, "/v1/people")["trust_id"] == str(RIVERSIDE)
    assert "idempotent-replayed" not in other.headers

    # A failed request stores nothing under its key: fixing the body and retrying works.
    retry_key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    bad = await seeded.gateway.post(
        "/v1/people", headers={**admin, **retry_key}, json=new_person(email=TEACHER[0])
    )
    assert_problem(bad, 409)
    fixed = await seeded.gateway.post(
        "/v1/people",
        headers={**admin, **retry_key},
        json=body | {"email": f"fixed-{uuid.uuid4().hex[:6]}@northfield.example"},
    )
    assert_created(fixed, "/v1/people")

    too_long = await seeded.gateway.post(
        "/v1/people", headers={**admin, "Idempotency-Key": "k" * 201}, json=new_person()
    )
    assert_problem(too_long, 422)


# ---- events ----------------------------------------------------------------------------------


async def test_creating_a_person_writes_one_upserted_event_to_the_outbox(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    person = assert_created(
        await seeded.gateway.post("/v1/people", headers=admin, json=new_person()), "/v1/people"
    )
    events = await outbox_events(seeded, catalogue.PersonUpserted.event_type, person["id"])
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "cpd.directory.person.upserted.v1"
    assert event["specversion"] == "1.0"
    assert event["source"] == "cpd/directory"
    assert event["trustid"] == str(OAKRIDGE)
    data = event["data"]
    assert data["person_id"] == person["id"]
    assert data["school_ids"] == [str(NORTHFIELD)]
    assert data["staff_group"] == "teacher" and data["department"] == "KS2"
    assert data["roles"] == ["staff"] and data["active"] is True
    async with seeded.session("gateway") as session:
        row = (
            await session.execute(
                text("SELECT subject, sent_at FROM outbox WHERE event_id = :id"),
                {"id": uuid.UUID(event["id"])},
            )
        ).one()
    assert row.subject == "cpd.directory.person.upserted"
    assert row.sent_at is None, "the API never publishes; the relay does"

    # A refused create writes no event.
    before = await _outbox_count(seeded)
    await seeded.gateway.post("/v1/people", headers=admin, json=new_person(email=TEACHER[0]))
    assert await _outbox_count(seeded) == before


async def _outbox_count(stack: Stack) -> int:
    async with stack.session("gateway") as session:
        return int(await session.scalar(text("SELECT count(*) FROM outbox")))


# ---- right to erasure ------------------------------------------------------------------------


async def _projection(stack: Stack, service: str, person_id: str) -> Any:
    async with stack.session(service) as session:
        return (
            await session.execute(
                text("SELECT id, name FROM people WHERE id = :id"), {"id": uuid.UUID(person_id)}
            )
        ).first()


async def test_erasure_blanks_the_person_everywhere(platform: Stack) -> None:
    admin = await platform.auth(*ADMIN)
    email = f"erase-me-{uuid.uuid4().hex[:6]}@northfield.example"
    person = assert_created(
        await platform.gateway.post(
            "/v1/people",
            headers=admin,
            json=new_person(name="Erin Erase", email=email, password="erase-me-password-26"),
        ),
        "/v1/people",
    )
    pid = person["id"]
    managed = assert_created(
        await platform.gateway.post(
            "/v1/people", headers=admin, json=new_person(line_manager_id=pid)
        ),
        "/v1/people",
    )
    group = assert_created(
        await platform.gateway.post(
            "/v1/groups",
            headers=admin,
            json={"name": "Triad", "member_ids": [pid, str(PEOPLE_BY_KEY["n-t2"].id)]},
        ),
        "/v1/groups",
    )
    assert await platform.token(email, "erase-me-password-26")
    await platform.settle()
    for service in DOMAIN_SERVICES:
        row = await _projection(platform, service, pid)
        assert row is not None and row.name == "Erin Erase", service

    not_yet = await platform.gateway.get(f"/v1/people/{pid}/erasure", headers=admin)
    assert_problem(not_yet, 404)
    leader = await platform.auth(*LEADER)
    assert_problem(await platform.gateway.post(f"/v1/people/{pid}/erase", headers=leader), 403)

    erased = await platform.gateway.post(f"/v1/people/{pid}/erase", headers=admin)
    assert erased.status_code == 202, erased.text
    receipt = erased.json()
    assert receipt["person_id"] == pid and receipt["status"] == "erased"
    assert set(receipt["services_notified"]) == set(DOMAIN_SERVICES)
    status = await platform.gateway.get(f"/v1/people/{pid}/erasure", headers=admin)
    assert status.status_code == 200 and status.json() == receipt

    # Blanked here, login gone, out of groups and no longer anyone's manager.
    now = (await platform.gateway.get(f"/v1/people/{pid}", headers=admin)).json()
    assert now["name"] == ERASED_NAME and now["name"] != "Erin Erase"
    assert now["email"] is None and now["department"] is None and now["start_date"] is None
    assert now["roles"] == [] and now["active"] is False and now["has_login"] is False
    assert now["erased_at"] is not None
    login = await platform.gateway.post(
        "/auth/token",
        data={"grant_type": "password", "username": email, "password": "erase-me-password-26"},
    )
    assert_problem(login, 401)
    members = (await platform.gateway.get(f"/v1/groups/{group['id']}", headers=admin)).json()
    assert members["member_ids"] == [str(PEOPLE_BY_KEY["n-t2"].id)]
    report = (await platform.gateway.get(f"/v1/people/{managed['id']}", headers=admin)).json()
    assert report["line_manager_id"] is None
    async with platform.session("gateway") as session:
        leftovers = await session.scalar(
            text("SELECT count(*) FROM people WHERE name = 'Erin Erase' OR email = :e"),
            {"e": email},
        )
    assert leftovers == 0

    # Erasing again changes nothing and publishes nothing more; an erased person cannot change.
    again = await platform.gateway.post(f"/v1/people/{pid}/erase", headers=admin)
    assert again.status_code == 202 and again.json() == receipt
    assert len(await outbox_events(platform, catalogue.PersonErased.event_type, pid)) == 1
    patch = await platform.gateway.patch(
        f"/v1/people/{pid}", headers={**admin, "If-Match": "*"}, json={"name": "Back"}
    )
    assert_problem(patch, 409)

    # Every service drops its copy.
    await platform.settle()
    for service in DOMAIN_SERVICES:
        assert await _projection(platform, service, pid) is None, service
