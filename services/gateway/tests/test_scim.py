"""SCIM 2.0 provisioning through the gateway (``/scim/v2``) with the demo HR client: Groups end
to end, SCIM error bodies, tenancy and roles, discovery, and the scim2-tester compliance
checks (discovery and CRUD) run against the live gateway. Users are in
:mod:`test_scim_users`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from scim2_client import BaseSyncSCIMClient
from scim2_tester import Status, check_server

from cpd_demo.trust import NORTHFIELD, SOUTHBANK
from cpd_local.stack import Stack

from .scim_helpers import (
    ADMIN,
    CORE_USER,
    CPD,
    ENTERPRISE,
    HR,
    PATCH_OP,
    QA,
    RIVERSIDE_ADMIN,
    assert_scim_error,
    create,
    hr_headers,
    new_user,
    search,
    upserted,
)

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
