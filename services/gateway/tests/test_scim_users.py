"""SCIM 2.0 Users through the gateway (``/scim/v2/Users``) with the demo HR client: creating a
user the directory holds (one event), filters, sorting and paging, replace and PATCH with value
filters and ETags (one event per change), and de-provisioning by the trust's policy."""

from __future__ import annotations

import uuid
from typing import Any

from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

from .scim_helpers import (
    ADMIN,
    CPD,
    ENTERPRISE,
    PATCH_OP,
    assert_scim_error,
    create,
    events_of,
    hr_headers,
    new_user,
    search,
    upserted,
)

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
    assert await events_of(seeded, catalogue.PersonErased.event_type, kept["id"]) == []

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
    assert len(await events_of(seeded, catalogue.PersonErased.event_type, gone["id"])) == 1


async def test_a_person_without_a_user_name_is_known_to_scim_by_their_email(seeded: Stack) -> None:
    """SCIM's userName of a directory person who has none is their email: a create naming it
    (in any case) is refused as not unique, as is one naming another user's userName."""
    hr = await hr_headers(seeded)
    deputy = PEOPLE_BY_KEY["n-deputy"]
    assert deputy.email
    taken = await seeded.gateway.post(
        "/scim/v2/Users", headers=hr, json=new_user(userName=deputy.email.upper())
    )
    assert_scim_error(taken, 409, "uniqueness")
    user = await create(seeded, hr, new_user())
    again = await seeded.gateway.post(
        "/scim/v2/Users", headers=hr, json=new_user(userName=user["userName"].title())
    )
    assert_scim_error(again, 409, "uniqueness")
    found = await search(seeded, hr, f'userName eq "{deputy.email}"')
    assert [r["id"] for r in found["Resources"]] == [str(deputy.id)]
