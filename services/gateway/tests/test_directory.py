"""The directory through the gateway: schools, people, groups, API clients and the trust,
with 201 + Location + ETag, If-Match, and 422/409 problems for bad input.

The demo trust is seeded once per session into a template database that every test copies.
"""

from __future__ import annotations

import uuid

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, RIVERSIDE, RIVERSIDE_HIGH, SOUTHBANK
from cpd_local.stack import Stack

from .directory_helpers import (
    ADMIN,
    LEADER,
    OAKRIDGE_PEOPLE,
    TEACHER,
    assert_created,
    assert_problem,
    check_preconditions,
    error_locs,
    new_person,
    outbox_events,
)

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


async def test_email_user_name_and_external_id_are_one_persons_and_checked_in_that_order(
    seeded: Stack,
) -> None:
    """Creating or changing a person to another's email (any case), user name (any case) or
    external id is refused: the email first (platform-wide), then the user name, then the
    external id (within the trust); a person keeps their own without a conflict."""
    admin = await seeded.auth(*ADMIN)
    first = assert_created(
        await seeded.gateway.post(
            "/v1/people",
            headers=admin,
            json=new_person(user_name="robin.ellis", external_id="HR-UNIQ-1"),
        ),
        "/v1/people",
    )

    async def refused(body: dict[str, object]) -> str:
        resp = await seeded.gateway.post("/v1/people", headers=admin, json=new_person(**body))
        return str(assert_problem(resp, 409)["title"])

    everything = {
        "email": first["email"].upper(),
        "user_name": "Robin.Ellis",
        "external_id": "HR-UNIQ-1",
    }
    assert await refused(everything) == "Email cannot be used"
    assert await refused({**everything, "email": None}) == "User name already in use"
    assert await refused({"external_id": "HR-UNIQ-1"}) == "External id already in use"

    second = assert_created(
        await seeded.gateway.post("/v1/people", headers=admin, json=new_person()), "/v1/people"
    )
    url = f"/v1/people/{second['id']}"
    etag = (await seeded.gateway.get(url, headers=admin)).headers["etag"]
    changed = await seeded.gateway.patch(
        url, headers={**admin, "If-Match": etag}, json={"user_name": "ROBIN.ELLIS"}
    )
    assert assert_problem(changed, 409)["title"] == "User name already in use"
    kept = await seeded.gateway.patch(
        f"/v1/people/{first['id']}",
        headers={
            **admin,
            "If-Match": (
                await seeded.gateway.get(f"/v1/people/{first['id']}", headers=admin)
            ).headers["etag"],
        },
        json={"email": first["email"], "user_name": "robin.ellis", "external_id": "HR-UNIQ-1"},
    )
    assert kept.status_code == 200, kept.text
