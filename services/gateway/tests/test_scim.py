"""SCIM 2.0 provisioning through the gateway (``/scim/v2``) with the demo HR client: Users and
Groups end to end, filters, PATCH with value filters, ETags, SCIM error bodies, tenancy,
roles, the directory events each change publishes (once), de-provisioning, and the
scim2-tester compliance checks (discovery and CRUD) run against the live gateway."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from scim2_client import BaseSyncSCIMClient
from scim2_tester import Status, check_server
from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
HR = DEMO_CREDENTIALS["HR API client"]
QA = DEMO_CREDENTIALS["QA API client"]
SCIM_JSON = "application/scim+json"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CPD = "urn:ietf:params:scim:schemas:extension:cpd:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


async def hr_headers(stack: Stack, client: tuple[str, str] = HR) -> dict[str, str]:
    token = await stack.client_token(*client)
    return {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}


def assert_scim_error(resp: httpx.Response, status: int, scim_type: str | None = None) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(SCIM_JSON), resp.headers
    body = resp.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type is None:
        assert "scimType" not in body, body
    else:
        assert body.get("scimType") == scim_type, body
    assert isinstance(body["detail"], str) and body["detail"]
    return str(body["detail"])


def new_user(**overrides: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    body: dict[str, Any] = {
        "schemas": [CORE_USER, ENTERPRISE, CPD],
        "userName": f"jo.bloggs.{tag}",
        "externalId": f"HR-{tag}",
        "name": {"givenName": "Jo", "familyName": f"Bloggs{tag}"},
        "emails": [
            {"value": f"home-{tag}@mail.example", "type": "home"},
            {"value": f"jo.{tag}@northfield.example", "type": "work", "primary": True},
        ],
        "active": True,
        ENTERPRISE: {
            "employeeNumber": f"E{tag}",
            "department": "Maths",
            "manager": {"value": str(PEOPLE_BY_KEY["n-deputy"].id)},
        },
        CPD: {
            "schools": [{"value": str(NORTHFIELD)}],
            "staffGroup": "teacher",
            "careerStage": "ect",
            "fte": "0.8",
            "startDate": "2025-09-01T00:00:00Z",
        },
    }
    body.update(overrides)
    return body


async def upserted(stack: Stack, person_id: str) -> list[dict[str, Any]]:
    return await _events(stack, catalogue.PersonUpserted.event_type, person_id)


async def _events(stack: Stack, event_type: str, subject: str) -> list[dict[str, Any]]:
    async with stack.session("gateway") as session:
        rows = await session.execute(
            text(
                "SELECT envelope FROM outbox WHERE type = :type AND envelope->>'subject' = :subject"
                " ORDER BY seq"
            ),
            {"type": event_type, "subject": subject},
        )
        return [r.envelope for r in rows]


async def create(stack: Stack, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    resp = await stack.gateway.post("/scim/v2/Users", headers=headers, json=body)
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith(SCIM_JSON)
    created = resp.json()
    assert resp.headers["location"] == created["meta"]["location"]
    assert resp.headers["location"].endswith(f"/scim/v2/Users/{created['id']}")
    assert resp.headers["etag"] == created["meta"]["version"]
    return created


async def search(stack: Stack, headers: dict[str, str], scim_filter: str, **params: Any) -> Any:
    resp = await stack.gateway.get(
        "/scim/v2/Users", headers=headers, params={"filter": scim_filter, **params}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    return body


# ---- Users -----------------------------------------------------------------------------------


async def test_hr_client_creates_a_user_the_directory_holds_with_one_event(seeded: Stack) -> None:
    hr = await hr_headers(seeded)
    body = new_user()
    user = await create(seeded, hr, body)

    assert user["userName"] == body["userName"] and user["externalId"] == body["externalId"]
    assert user["displayName"] == f"Jo {body['name']['familyName']}"
    assert user["name"]["givenName"] == "Jo"
    # The directory keeps one address: the primary one, shown as the primary work address.
    assert user["emails"] == [
        {"value": body["emails"][1]["value"], "type": "work", "primary": True}
    ]
    assert user[ENTERPRISE]["organization"] == "Oakridge Learning Trust"
    assert user[ENTERPRISE]["manager"]["value"] == str(PEOPLE_BY_KEY["n-deputy"].id)
    assert user[ENTERPRISE]["manager"]["displayName"] == PEOPLE_BY_KEY["n-deputy"].name
    assert user[CPD]["schools"] == [{"value": str(NORTHFIELD), "display": "Northfield Primary"}]
    assert user[CPD]["startDate"].startswith("2025-09-01")

    admin = await seeded.auth(*ADMIN)
    person = (await seeded.gateway.get(f"/v1/people/{user['id']}", headers=admin)).json()
    assert person["email"] == body["emails"][1]["value"]
    assert person["user_name"] == body["userName"]
    assert person["employee_number"] == body[ENTERPRISE]["employeeNumber"]
    assert person["school_ids"] == [str(NORTHFIELD)] and person["fte"] == 0.8
    assert person["start_date"] == "2025-09-01" and person["staff_group"] == "teacher"
    assert person["roles"] == ["staff"] and person["active"] is True

    events = await upserted(seeded, user["id"])
    assert len(events) == 1
    assert events[0]["data"]["school_ids"] == [str(NORTHFIELD)]
    assert events[0]["data"]["line_manager_id"] == str(PEOPLE_BY_KEY["n-deputy"].id)

    got = await seeded.gateway.get(f"/scim/v2/Users/{user['id']}", headers=hr)
    assert got.status_code == 200 and got.json() == user
    assert got.headers["etag"] == user["meta"]["version"]
    unchanged = await seeded.gateway.get(
        f"/scim/v2/Users/{user['id']}", headers={**hr, "If-None-Match": got.headers["etag"]}
    )
    assert unchanged.status_code == 304
    only = await seeded.gateway.get(
        f"/scim/v2/Users/{user['id']}", headers=hr, params={"attributes": "userName"}
    )
    assert set(only.json()) == {"schemas", "id", "userName"}, only.json()
    without = await seeded.gateway.get(
        f"/scim/v2/Users/{user['id']}", headers=hr, params={"excludedAttributes": "emails,name"}
    )
    assert "emails" not in without.json() and "name" not in without.json()
    assert without.json()["userName"] == body["userName"]


async def test_filters_sorting_and_paging(seeded: Stack) -> None:
    hr = await hr_headers(seeded)
    tag = uuid.uuid4().hex[:6]
    made = []
    for i, (given, dept) in enumerate([("Ana", "Maths"), ("Ben", "English"), ("Cal", "Maths")]):
        body = new_user(
            userName=f"{given.lower()}.{tag}",
            name={"givenName": given, "familyName": f"Filter{tag}"},
            emails=[{"value": f"{given.lower()}.{tag}@school{i}.example", "type": "work"}],
        )
        body[ENTERPRISE]["department"] = dept
        made.append(await create(seeded, hr, body))
    ana, ben, cal = made

    def ids(listing: dict[str, Any]) -> list[str]:
        return [r["id"] for r in listing["Resources"]]

    assert ids(await search(seeded, hr, f'userName eq "ANA.{tag}"')) == [ana["id"]]
    assert ids(await search(seeded, hr, f'externalId eq "{ben["externalId"]}"')) == [ben["id"]]
    assert ids(
        await search(seeded, hr, f'emails[type eq "work" and value ew "{tag}@school2.example"]')
    ) == [cal["id"]]
    assert ids(await search(seeded, hr, f'emails co "{tag}@school1"')) == [ben["id"]]
    family = f'name.familyName eq "filter{tag}"'
    assert set(ids(await search(seeded, hr, family))) == {ana["id"], ben["id"], cal["id"]}
    maths = f'{family} and {ENTERPRISE}:department eq "Maths"'
    assert set(ids(await search(seeded, hr, maths))) == {ana["id"], cal["id"]}
    grouped = f'{family} and (userName sw "ben" or userName sw "cal") and not (userName sw "cal")'
    assert ids(await search(seeded, hr, grouped)) == [ben["id"]]
    assert ids(await search(seeded, hr, f"{family} and active eq false")) == []
    assert len(ids(await search(seeded, hr, f"{family} and externalId pr"))) == 3
    assert ids(
        await search(
            seeded, hr, f'{family} and userName ne "ana.{tag}" and userName ne "ben.{tag}"'
        )
    ) == [cal["id"]]
    recent = f'{family} and meta.lastModified gt "{ben["meta"]["lastModified"]}"'
    assert ids(await search(seeded, hr, recent)) == [cal["id"]]
    upto = f'{family} and meta.lastModified le "{ben["meta"]["lastModified"]}"'
    assert set(ids(await search(seeded, hr, upto))) == {ana["id"], ben["id"]}
    assert (
        ids(await search(seeded, hr, f'{family} and meta.created lt "2000-01-01T00:00:00Z"')) == []
    )

    page = await search(
        seeded, hr, family, sortBy="userName", sortOrder="descending", startIndex=2, count=1
    )
    assert page["totalResults"] == 3 and page["startIndex"] == 2 and page["itemsPerPage"] == 1
    assert ids(page) == [ben["id"]]
    counted = await search(seeded, hr, family, count=0)
    assert counted["totalResults"] == 3 and counted.get("Resources", []) == []

    posted = await seeded.gateway.post(
        "/scim/v2/Users/.search",
        headers=hr,
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": family,
            "sortBy": "name.givenName",
            "attributes": ["userName"],
        },
    )
    assert posted.status_code == 200, posted.text
    assert [r["userName"] for r in posted.json()["Resources"]] == [
        f"ana.{tag}",
        f"ben.{tag}",
        f"cal.{tag}",
    ]


async def test_replace_and_patch_with_value_filters_etags_and_one_event_per_change(
    seeded: Stack,
) -> None:
    hr = await hr_headers(seeded)
    user = await create(seeded, hr, new_user())
    url = f"/scim/v2/Users/{user['id']}"

    stale = await seeded.gateway.patch(
        url,
        headers={**hr, "If-Match": 'W/"0123456789abcdef01234567"'},
        json={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert_scim_error(stale, 412)

    new_email = f"jo.{uuid.uuid4().hex[:8]}@southbank.example"
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": new_email},
            {"op": "replace", "path": "name.givenName", "value": "Joanna"},
            {"op": "add", "path": f"{CPD}:schools", "value": [{"value": str(SOUTHBANK)}]},
            {"op": "remove", "path": f"{ENTERPRISE}:manager"},
            {"op": "Replace", "value": {f"{ENTERPRISE}:department": "Science"}},
        ],
    }
    patched = await seeded.gateway.patch(
        url, headers={**hr, "If-Match": user["meta"]["version"]}, json=patch
    )
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["emails"] == [{"value": new_email, "type": "work", "primary": True}]
    assert after["name"]["givenName"] == "Joanna"
    assert after["displayName"] == f"Joanna {user['name']['familyName']}"
    assert [s["value"] for s in after[CPD]["schools"]] == [str(NORTHFIELD), str(SOUTHBANK)]
    assert "manager" not in after[ENTERPRISE]
    assert after[ENTERPRISE]["department"] == "Science"
    assert patched.headers["etag"] == after["meta"]["version"] != user["meta"]["version"]
    assert len(await upserted(seeded, user["id"])) == 2

    # The same patch again changes nothing and publishes nothing.
    again = await seeded.gateway.patch(
        url, headers=hr, json={**patch, "Operations": patch["Operations"][:2]}
    )
    assert again.status_code == 200 and again.json()["meta"]["version"] == after["meta"]["version"]
    assert len(await upserted(seeded, user["id"])) == 2

    replacement = new_user(userName=user["userName"], externalId=user["externalId"])
    replacement["name"] = {"formatted": "Jo Bloggs-Smith"}
    del replacement[CPD]  # an HR system that does not know our extension keeps it as it is
    replaced = await seeded.gateway.put(
        url, headers={**hr, "If-Match": after["meta"]["version"]}, json=replacement
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["displayName"] == "Jo Bloggs-Smith"
    assert "name" not in body  # the replace sent no given or family name: the parts are gone
    assert body["emails"][0]["value"] == replacement["emails"][1]["value"]
    assert [s["value"] for s in body[CPD]["schools"]] == [str(NORTHFIELD), str(SOUTHBANK)]
    assert len(await upserted(seeded, user["id"])) == 3
    stale_put = await seeded.gateway.put(
        url, headers={**hr, "If-Match": after["meta"]["version"]}, json=replacement
    )
    assert_scim_error(stale_put, 412)

    # Entra-style deactivation: PATCH active false revokes the person like the directory does.
    off = await seeded.gateway.patch(
        url,
        headers=hr,
        json={"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert off.status_code == 200 and off.json()["active"] is False
    events = await upserted(seeded, user["id"])
    assert len(events) == 4 and events[-1]["data"]["active"] is False


async def test_delete_deprovisions_then_erases_by_the_trust_policy(seeded: Stack) -> None:
    hr = await hr_headers(seeded)
    admin = await seeded.auth(*ADMIN)
    kept = await create(seeded, hr, new_user())

    assert (
        await seeded.gateway.delete(f"/scim/v2/Users/{kept['id']}", headers=hr)
    ).status_code == 204
    assert_scim_error(await seeded.gateway.get(f"/scim/v2/Users/{kept['id']}", headers=hr), 404)
    assert_scim_error(await seeded.gateway.delete(f"/scim/v2/Users/{kept['id']}", headers=hr), 404)
    assert (await search(seeded, hr, f'userName eq "{kept["userName"]}"'))["totalResults"] == 0
    person = (await seeded.gateway.get(f"/v1/people/{kept['id']}", headers=admin)).json()
    assert person["active"] is False and person["erased_at"] is None
    events = await upserted(seeded, kept["id"])
    assert [e["data"]["active"] for e in events] == [True, False]
    assert await _events(seeded, catalogue.PersonErased.event_type, kept["id"]) == []

    # Provisioned again (same externalId): the same directory record comes back, active.
    back = await create(
        seeded, hr, new_user(userName=kept["userName"], externalId=kept["externalId"])
    )
    assert back["id"] == kept["id"] and back["active"] is True

    trust_url = f"/v1/trusts/{OAKRIDGE}"
    trust = await seeded.gateway.get(trust_url, headers=admin)
    assert trust.json()["deprovisioning"] == "deactivate"
    changed = await seeded.gateway.patch(
        trust_url,
        headers={**admin, "If-Match": trust.headers["etag"]},
        json={"deprovisioning": "erase"},
    )
    assert changed.status_code == 200 and changed.json()["deprovisioning"] == "erase"
    assert changed.json()["name"] == "Oakridge Learning Trust"

    gone = await create(seeded, hr, new_user())
    assert (
        await seeded.gateway.delete(f"/scim/v2/Users/{gone['id']}", headers=hr)
    ).status_code == 204
    erased = (await seeded.gateway.get(f"/v1/people/{gone['id']}", headers=admin)).json()
    assert erased["erased_at"] is not None and erased["email"] is None
    assert erased["user_name"] is None and erased["employee_number"] is None
    assert erased["given_name"] is None and erased["family_name"] is None
    assert len(await _events(seeded, catalogue.PersonErased.event_type, gone["id"])) == 1


# ---- Groups ----------------------------------------------------------------------------------


async def test_groups_with_members_patch_filter_and_delete(seeded: Stack) -> None:
    hr = await hr_headers(seeded)
    ana = await create(seeded, hr, new_user())
    ben = await create(seeded, hr, new_user())
    name = f"Year 6 team {uuid.uuid4().hex[:6]}"
    resp = await seeded.gateway.post(
        "/scim/v2/Groups",
        headers=hr,
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "externalId": "G-1",
            "members": [{"value": ana["id"]}],
        },
    )
    assert resp.status_code == 201, resp.text
    group = resp.json()
    assert group["members"] == [
        {
            "value": ana["id"],
            "$ref": ana["meta"]["location"],
            "type": "User",
            "display": ana["displayName"],
        }
    ]
    url = f"/scim/v2/Groups/{group['id']}"

    patched = await seeded.gateway.patch(
        url,
        headers={**hr, "If-Match": group["meta"]["version"]},
        json={
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": ben["id"]}]},
                {"op": "remove", "path": f'members[value eq "{ana["id"]}"]'},
            ],
        },
    )
    assert patched.status_code == 200, patched.text
    assert [m["value"] for m in patched.json()["members"]] == [ben["id"]]
    membership = (await seeded.gateway.get(f"/scim/v2/Users/{ben['id']}", headers=hr)).json()
    assert membership["groups"][0]["value"] == group["id"]
    assert membership["groups"][0]["display"] == name

    listed = await seeded.gateway.get(
        "/scim/v2/Groups",
        headers=hr,
        params={"filter": f'displayName eq "{name}"', "excludedAttributes": "members"},
    )
    assert [g["id"] for g in listed.json()["Resources"]] == [group["id"]]
    assert "members" not in listed.json()["Resources"][0]
    by_member = await seeded.gateway.get(
        "/scim/v2/Groups", headers=hr, params={"filter": f'members[value eq "{ben["id"]}"]'}
    )
    assert [g["id"] for g in by_member.json()["Resources"]] == [group["id"]]

    admin = await seeded.auth(*ADMIN)
    stored = (await seeded.gateway.get(f"/v1/groups/{group['id']}", headers=admin)).json()
    assert stored["member_ids"] == [ben["id"]] and stored["external_id"] == "G-1"

    stranger = await seeded.gateway.patch(
        url,
        headers=hr,
        json={
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": str(uuid.uuid4())}]}
            ],
        },
    )
    assert_scim_error(stranger, 400, "invalidValue")

    renamed = await seeded.gateway.put(
        url, headers=hr, json={"displayName": name + " (renamed)", "members": []}
    )
    assert renamed.status_code == 200 and "members" not in renamed.json()
    assert (await seeded.gateway.delete(url, headers=hr)).status_code == 204
    assert_scim_error(await seeded.gateway.get(url, headers=hr), 404)


# ---- errors, roles, tenancy -------------------------------------------------------------------


async def test_errors_are_scim_errors_with_the_rfc_scim_types(seeded: Stack) -> None:
    hr = await hr_headers(seeded)
    user = await create(seeded, hr, new_user())
    url = f"/scim/v2/Users/{user['id']}"

    def filtered(scim_filter: str) -> Any:
        return seeded.gateway.get("/scim/v2/Users", headers=hr, params={"filter": scim_filter})

    assert_scim_error(await filtered("userName eq"), 400, "invalidFilter")
    assert_scim_error(await filtered('shoeSize eq "9"'), 400, "invalidFilter")
    assert_scim_error(await filtered("active gt true"), 400, "invalidFilter")
    assert_scim_error(await filtered('groups.value eq "x"'), 400, "invalidFilter")
    dup = await seeded.gateway.post(
        "/scim/v2/Users", headers=hr, json=new_user(userName=user["userName"].upper())
    )
    assert_scim_error(dup, 409, "uniqueness")
    taken = new_user(emails=[{"value": user["emails"][0]["value"], "type": "work"}])
    assert_scim_error(
        await seeded.gateway.post("/scim/v2/Users", headers=hr, json=taken), 409, "uniqueness"
    )
    bad_json = await seeded.gateway.post("/scim/v2/Users", headers=hr, content=b"{nope")
    assert_scim_error(bad_json, 400, "invalidSyntax")
    no_name = new_user()
    del no_name["userName"]
    assert_scim_error(
        await seeded.gateway.post("/scim/v2/Users", headers=hr, json=no_name), 400, "invalidValue"
    )
    stranger_school = new_user()
    stranger_school[CPD]["schools"] = [{"value": str(uuid.uuid4())}]
    assert_scim_error(
        await seeded.gateway.post("/scim/v2/Users", headers=hr, json=stranger_school),
        400,
        "invalidValue",
    )
    wrong_group = new_user()
    wrong_group[CPD]["staffGroup"] = "astronaut"
    assert_scim_error(
        await seeded.gateway.post("/scim/v2/Users", headers=hr, json=wrong_group),
        400,
        "invalidValue",
    )

    def patched(*operations: dict[str, Any]) -> Any:
        return seeded.gateway.patch(
            url, headers=hr, json={"schemas": [PATCH_OP], "Operations": list(operations)}
        )

    assert_scim_error(
        await patched({"op": "replace", "path": "shoeSize", "value": 9}), 400, "invalidPath"
    )
    assert_scim_error(await patched({"op": "remove"}), 400, "noTarget")
    assert_scim_error(
        await patched(
            {"op": "replace", "path": 'emails[type eq "home"].value', "value": "a@b.example"}
        ),
        400,
        "noTarget",
    )
    assert_scim_error(
        await patched({"op": "replace", "path": "id", "value": "x"}), 400, "mutability"
    )
    assert_scim_error(
        await patched({"op": "jump", "path": "active", "value": True}), 400, "invalidValue"
    )
    assert_scim_error(await seeded.gateway.get("/scim/v2/Nothing", headers=hr), 404)
    assert_scim_error(await seeded.gateway.get("/scim/v2/Users/not-an-id", headers=hr), 404)
    # A refused request changed nothing.
    assert (await seeded.gateway.get(url, headers=hr)).json()["meta"]["version"] == user["meta"][
        "version"
    ]
    assert len(await upserted(seeded, user["id"])) == 1


async def test_only_hr_clients_and_only_their_trust(seeded: Stack) -> None:
    hr = await hr_headers(seeded)
    user = await create(seeded, hr, new_user())

    assert_scim_error(await seeded.gateway.get("/scim/v2/Users"), 401)
    person = await seeded.auth(*ADMIN)
    assert_scim_error(await seeded.gateway.get("/scim/v2/Users", headers=person), 403)
    qa = {"Authorization": f"Bearer {await seeded.client_token(*QA)}"}
    assert_scim_error(await seeded.gateway.get("/scim/v2/Users", headers=qa), 403)
    assert_scim_error(await seeded.gateway.get("/scim/v2/Schemas", headers=qa), 403)
    # HR clients provision through SCIM and the import, not the REST directory.
    refused = await seeded.gateway.post(
        "/v1/people", headers=hr, json={"name": "Sam Smith", "email": "sam.x@northfield.example"}
    )
    assert refused.status_code == 403, refused.text

    riverside_admin = await seeded.auth(*RIVERSIDE_ADMIN)
    made = await seeded.gateway.post(
        "/v1/clients",
        headers=riverside_admin,
        json={"name": "Riverside HR", "roles": ["hr_integration"], "scopes": ["scim"]},
    )
    assert made.status_code == 201, made.text
    other = await hr_headers(seeded, (made.json()["client_id"], made.json()["client_secret"]))
    url = f"/scim/v2/Users/{user['id']}"
    assert_scim_error(await seeded.gateway.get(url, headers=other), 404)
    assert_scim_error(await seeded.gateway.put(url, headers=other, json=new_user()), 404)
    assert_scim_error(await seeded.gateway.delete(url, headers=other), 404)
    found = await search(seeded, other, f'userName eq "{user["userName"]}"')
    assert found["totalResults"] == 0
    everyone = (await seeded.gateway.get("/scim/v2/Users", headers=other)).json()
    assert {r[ENTERPRISE]["organization"] for r in everyone["Resources"]} == {
        "Riverside Schools Trust"
    }
    # Oakridge's school ids are not Riverside's to use.
    foreign = new_user()
    assert_scim_error(
        await seeded.gateway.post("/scim/v2/Users", headers=other, json=foreign),
        400,
        "invalidValue",
    )
    assert (await seeded.gateway.get(url, headers=hr)).status_code == 200


async def test_discovery_advertises_what_is_supported(seeded: Stack) -> None:
    hr = await hr_headers(seeded)
    config = (await seeded.gateway.get("/scim/v2/ServiceProviderConfig", headers=hr)).json()
    assert config["patch"]["supported"] is True and config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["etag"]["supported"] is True and config["sort"]["supported"] is True
    types = (await seeded.gateway.get("/scim/v2/ResourceTypes", headers=hr)).json()
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    listed = (await seeded.gateway.get("/scim/v2/Schemas", headers=hr)).json()
    by_id = {s["id"]: s for s in listed["Resources"]}
    assert set(by_id) == {
        CORE_USER,
        ENTERPRISE,
        CPD,
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    }
    cpd = {a["name"]: a for a in by_id[CPD]["attributes"]}
    assert set(cpd) == {"schools", "staffGroup", "careerStage", "fte", "startDate"}
    school_value = next(s for s in cpd["schools"]["subAttributes"] if s["name"] == "value")
    assert set(school_value["canonicalValues"]) == {str(NORTHFIELD), str(SOUTHBANK)}
    one = await seeded.gateway.get(f"/scim/v2/Schemas/{CPD}", headers=hr)
    assert one.status_code == 200 and one.json()["id"] == CPD


# ---- the independent compliance checker -------------------------------------------------------


TESTER_TAGS = {"discovery", "crud", "misc"}


class _GatewayClient(BaseSyncSCIMClient):
    """scim2-tester drives a synchronous client; this one runs each request on the test's
    event loop against the in-process gateway (from the checker's worker thread)."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.client = client
        self.loop = loop

    def _stays_under_base_url(self, endpoint: str) -> bool:
        url = self.client.build_request("GET", endpoint).url
        base = self.client.base_url
        return url.host == base.host and url.path.startswith(base.path.rstrip("/"))

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        call = self.client.request(method, url, **kwargs)
        return asyncio.run_coroutine_threadsafe(call, self.loop).result(timeout=60)


async def test_scim2_tester_discovery_and_crud_pass(seeded: Stack) -> None:
    token = await seeded.client_token(*HR)
    gateway = seeded.gateway
    async with httpx.AsyncClient(
        transport=gateway._transport,
        base_url=str(gateway.base_url) + "/scim/v2",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        scim = _GatewayClient(client, asyncio.get_running_loop())
        results = await asyncio.to_thread(
            check_server,
            scim,
            include_tags=TESTER_TAGS,
            resource_types=["User", "Group"],
        )
    failed = [
        (r.title, r.resource_type, r.reason)
        for r in results
        if r.status not in (Status.SUCCESS, Status.SKIPPED)
    ]
    assert results and not failed, "\n".join(map(str, failed))
    passed = {(r.title, r.resource_type) for r in results if r.status == Status.SUCCESS}
    for check in ("object_creation", "object_query", "object_replacement", "object_deletion"):
        assert (check, "User") in passed and (check, "Group") in passed, (check, passed)
