"""Mass assignment (issue 12, security matrix): a valid body plus the fields a caller must never
set (``id``, ``trust_id``, ``owner_id``, ``created_by``, ``person_id``, ``status``,
``created_at``, ``updated_at``, ``version``), on every POST, PUT and PATCH of the merged OpenAPI
document with a JSON body, as Oakridge's trust admin: each answers 422 naming exactly the
injected fields as unknown (so the body was otherwise valid and nothing ran: no handler, no
write). A field the operation's schema declares is settable by design there (``person_id`` of a
new member, ``status`` of a need) and is not injected; the test lists how many.

SCIM bodies follow RFC 7643 instead: an attribute of no schema (``trust_id``) is refused (400,
nothing created); the read-only ``id`` and ``meta`` are ignored, so a user created or replaced
with foreign ones keeps its own, in its own trust, as the stored resource shows."""

from __future__ import annotations

import uuid
from typing import Any

from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, RIVERSIDE
from cpd_local.stack import Stack

from .operations import Bodies, Operation, Resolver, operations
from .tenants import ADDITIONS

PROTECTED = {
    "id": str(uuid.uuid4()),
    "trust_id": str(RIVERSIDE),
    "owner_id": str(uuid.uuid4()),
    "created_by": str(uuid.uuid4()),
    "person_id": str(uuid.uuid4()),
    "status": "active",
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "version": 99,
}


def path_schema(op: Operation, name: str) -> dict[str, Any]:
    spec = next(p for p in op.spec.get("parameters", []) if p["name"] == name)
    return spec.get("schema", {})  # type: ignore[no-any-return]


async def test_protected_fields_in_json_bodies_are_refused(world: Stack) -> None:
    doc: dict[str, Any] = (await world.gateway.get("/openapi.json")).json()
    admin = await world.headers_for(PEOPLE_BY_KEY["admin"].id)
    ids = {
        "school_id": str(NORTHFIELD),
        "person_id": str(PEOPLE_BY_KEY["n-t2"].id),
        "pupil_id": "A123456789012",  # an observation names a pupil or a person
    }
    bodies = Bodies(doc, ids, optional=frozenset({"pupil_id"}))
    resolver = Resolver(world.gateway, doc, bodies, fixed={"trust_id": str(OAKRIDGE)})
    checked, settable, wrong = 0, 0, []
    for op in operations(doc):
        schema = op.json_schema()
        if op.method not in ("post", "put", "patch") or schema is None:
            continue
        if op.path.startswith("/scim/"):
            continue  # RFC 7643 rules: the SCIM test below
        accepted = bodies.properties(schema)
        injected = {k: v for k, v in PROTECTED.items() if k not in accepted}
        settable += len(PROTECTED) - len(injected)
        body = {**bodies.body(op), **ADDITIONS.get(op.key, {})}
        # Real ids where Oakridge has the resource (a route that reads its own body looks
        # it up first), else well-formed ones: a body model is validated before the route.
        url = await resolver.resolve(op.path, admin) if op.params else op.path
        if url is None:
            url = op.path
            for param in op.params:
                value = bodies.sample(path_schema(op, param), param)
                url = url.replace("{" + param + "}", str(value or uuid.uuid4()))
        resp = await world.gateway.request(
            op.method,
            url,
            json={**body, **injected},
            headers={**admin, "If-Match": '"x"', "Idempotency-Key": str(uuid.uuid4())},
            params=bodies.query(op),
        )
        checked += 1
        expected = {f"body.{k}" for k in injected}
        if resp.status_code != 422:
            wrong.append(f"{op.key}: {resp.status_code} {resp.text[:200]}")
            continue
        errors = resp.json().get("errors", [])
        locs = {e["loc"] for e in errors}
        unknown = {e["loc"] for e in errors if e["msg"] == "unknown field"}
        if locs != expected or unknown != expected:
            wrong.append(f"{op.key}: errors {errors} (expected unknown {sorted(expected)})")
    assert not wrong, "\n".join(wrong)
    print(
        f"mass assignment: {checked} operations refused every injected field; {settable}"
        " (operation, field) pairs settable by design"
    )
    assert checked >= 100, checked


async def test_scim_refuses_foreign_attributes_and_ignores_read_only_ones(world: Stack) -> None:
    hr = {"Authorization": "Bearer " + await world.client_token("demo-hr", "demo-hr-secret-2026")}
    admin = await world.headers_for(PEOPLE_BY_KEY["admin"].id)
    name = f"mass.{uuid.uuid4().hex[:8]}@oakridge.example"
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": "Mass", "familyName": "Assignment"},
        "active": True,
    }
    # An attribute of no SCIM schema (the trust) is refused, and nothing is created.
    refused = await world.gateway.post(
        "/scim/v2/Users", json={**user, "trust_id": str(RIVERSIDE)}, headers=hr
    )
    assert refused.status_code == 400, refused.text
    found = await world.gateway.get(f'/scim/v2/Users?filter=userName eq "{name}"', headers=hr)
    assert found.json()["totalResults"] == 0, found.text
    # Read-only attributes (RFC 7643: id, meta) are ignored, on create and on replace.
    chosen = str(uuid.uuid4())
    meta = {"created": "2000-01-01T00:00:00Z", "version": 'W/"99"'}
    created = await world.gateway.post(
        "/scim/v2/Users", json={**user, "id": chosen, "meta": meta}, headers=hr
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert user_id != chosen
    replaced = await world.gateway.put(
        f"/scim/v2/Users/{user_id}",
        json={**user, "id": str(uuid.uuid4()), "meta": meta, "active": False},
        headers=hr,
    )
    assert replaced.status_code == 200, replaced.text
    stored = (await world.gateway.get(f"/scim/v2/Users/{user_id}", headers=hr)).json()
    assert stored["id"] == user_id and stored["active"] is False
    assert not stored["meta"]["created"].startswith("2000")
    assert stored["meta"].get("version") != meta["version"]
    person = await world.gateway.get(f"/v1/people/{user_id}", headers=admin)
    assert person.status_code == 200, person.text
    assert person.json()["trust_id"] == str(OAKRIDGE)
    riverside = await world.headers_for(PEOPLE_BY_KEY["r-admin"].id)
    assert (await world.gateway.get(f"/v1/people/{user_id}", headers=riverside)).status_code == 404
