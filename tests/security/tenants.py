"""The tenant matrix's cast and targets. Attackers: one of each role in Riverside (the demo's
second trust; the school leader, the governor and both API clients are made through the API by
Riverside's trust admin), and Southbank's leader, staff and governor against Northfield (the
staff member one who belongs to no Northfield lesson study: Southbank members of a study
rightly write it).
Targets: every operation of the merged document that takes a path id, filled with real
Oakridge ids (made through the API where the demo has none), with what Oakridge reads of it
before the attacks (to compare after)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from cpd_demo.trust import NORTHFIELD, OAKRIDGE, PEOPLE_BY_KEY, RIVERSIDE_HIGH, SOUTHBANK
from cpd_local.stack import Stack

from .operations import Bodies, Operation, Resolver, operations

Headers = dict[str, str]

# Bodies the schema alone cannot make valid (rules checked in the service).
OVERRIDES: dict[str, Any] = {
    "POST /v1/webhooks": {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]},
    "POST /v1/activities/{activity_id}/reflections": {"tried": "Security matrix"},
    "PATCH /scim/v2/Users/{user_id}": {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    },
    "PATCH /scim/v2/Groups/{group_id}": {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Taken over"}],
    },
    "PUT /scim/v2/Users/{user_id}": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "taken.over@riverside.example",
        "name": {"givenName": "Taken", "familyName": "Over"},
        "active": False,
    },
    "PUT /scim/v2/Groups/{group_id}": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Taken over",
    },
}
# Fields added to a generated body to satisfy a rule across fields.
ADDITIONS: dict[str, dict[str, Any]] = {
    "POST /v1/learning-communities/{community_id}/activities": {"enquiry_id": str(uuid.uuid4())},
    "POST /v1/evaluations/{plan_id}/support": {"notes": "Security matrix"},
    "POST /v1/audits": {"scope": {"kind": "trust"}},
}
NORTHFIELD_ID = str(NORTHFIELD)


def northfield_only(item: dict[str, Any]) -> bool:
    """A resource of Northfield alone (school-private under the rules of DESIGN.md §5)."""
    return item.get("school_id") == NORTHFIELD_ID or item.get("school_ids") == [NORTHFIELD_ID]


@dataclass
class Target:
    op: Operation
    url: str
    viewer: Headers
    reads: list[str]
    etag: str | None = None
    before: dict[str, Any] = field(default_factory=dict)


@dataclass
class Matrix:
    doc: dict[str, Any]
    ops: list[Operation]
    targets: dict[str, Target]
    school_targets: dict[str, Target]
    attackers: dict[str, Headers]
    neighbours: dict[str, Headers]
    riverside_ids: dict[str, str]
    southbank_ids: dict[str, str]
    created: list[str]

    def body(self, op: Operation, ids: dict[str, str]) -> Any:
        """A valid body whose own references (school, person) are the attacker's."""
        if op.key in OVERRIDES:
            return OVERRIDES[op.key]
        body = Bodies(self.doc, ids).body(op)
        return {**body, **ADDITIONS[op.key]} if op.key in ADDITIONS else body


def with_ids(op: Operation) -> bool:
    return bool(op.params)


async def _bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


async def _plant_dead_letters(world: Stack) -> None:
    """One dead letter of Oakridge per service (the demo has none): its consumer is unknown,
    so a replay that got through would answer 409, not 404."""
    for name in world.services:
        async with world.session(name) as session:
            await session.execute(
                text(
                    "INSERT INTO dead_letters (id, consumer, event_id, event_type, trust_id,"
                    " subject, body, error, deliveries) VALUES (:id, 'security-matrix', :event,"
                    " 'cpd.test.v1', :trust, 'cpd.test', '{}', 'planted by the matrix', 1)"
                ),
                {"id": uuid.uuid4(), "event": str(uuid.uuid4()), "trust": OAKRIDGE},
            )
            await session.commit()


async def _oakridge_setup(world: Stack) -> None:
    await _plant_dead_letters(world)
    # A sign-in session of Oakridge's admin (a front-end login holds one).
    resp = await world.gateway.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": "admin@oakridge.example",
            "password": "oakridge-admin-2026",
            "client_id": "cpd-web",
        },
    )
    assert resp.status_code == 200, resp.text
    # A webhook with deliveries: a loopback receiver is a development setting, allowed only
    # while it is saved; its deliveries come with the next events.
    settings = world.services["gateway"].settings
    settings.webhooks_allow_loopback = True
    try:
        admin = await world.headers_for(PEOPLE_BY_KEY["admin"].id)
        resp = await world.gateway.post(
            "/v1/webhooks", json=OVERRIDES["POST /v1/webhooks"], headers=admin
        )
        assert resp.status_code == 201, resp.text
    finally:
        settings.webhooks_allow_loopback = False


async def _post(world: Stack, url: str, body: Any, headers: Headers) -> dict[str, Any]:
    resp = await world.gateway.post(url, json=body, headers=headers)
    assert resp.status_code in (200, 201), f"{url}: {resp.status_code} {resp.text}"
    return resp.json()  # type: ignore[no-any-return]


async def _oakridge_resources(
    world: Stack, admin: Headers, hr: Headers, builtin: dict[str, Any]
) -> Headers:
    """Oakridge resources the demo does not have and a generated body cannot make: an event
    for the webhook (so it has a delivery), a group, a self-audit, a CPD plan row, a shared
    career plan; returns a participant of the demo's coaching (only the pair read its log)."""
    person = {"name": "Matrix Webhook", "school_ids": [NORTHFIELD_ID], "staff_group": "support"}
    await _post(world, "/v1/people", person, admin)  # an Oakridge event the webhook wants
    group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Matrix"}
    await _post(world, "/scim/v2/Groups", group, hr)  # a group, seen by SCIM and /v1/groups
    items = builtin["current"]["items"]
    answers = {i["key"]: {"dont_know": True} if i.get("dont_know") else {"score": 1} for i in items}
    await _post(
        world, "/v1/self-audits", {"instrument_id": builtin["id"], "answers": answers}, admin
    )
    plan = (await world.gateway.get("/v1/cpd-plans", headers=admin)).json()["items"][0]
    needs = (await world.gateway.get("/v1/needs", headers=admin)).json()["items"]
    need = next(n for n in needs if n.get("school_id") == plan["school_id"])
    row = {"need_id": need["id"], "month": f"{plan['academic_year'][:4]}-10", "activity": "Matrix"}
    await _post(world, f"/v1/cpd-plans/{plan['id']}/rows", {**row, "responsible": "Matrix"}, admin)
    career = await _post(world, "/v1/career-plans", {"title": "Security matrix"}, admin)
    mentor = str(PEOPLE_BY_KEY["n-head"].id)
    await _post(world, f"/v1/career-plans/{career['id']}/share", {"mentor_id": mentor}, admin)
    activities = (await world.gateway.get("/v1/activities", headers=admin)).json()["items"]
    coaching = next(a for a in activities if a["kind"] == "coaching")
    url = f"/v1/activities/{coaching['id']}"
    people = (await world.gateway.get(f"{url}/participants", headers=admin)).json()["items"]
    # The demo's coaching log, which only the coach and the coachee read.
    return await world.headers_for(people[0]["person_id"])


async def _riverside_cast(world: Stack) -> dict[str, Headers]:
    """Riverside's trust admin and staff (demo), school leader and governor (new people), QA
    and HR clients (new clients)."""
    r_admin = await world.headers_for(PEOPLE_BY_KEY["r-admin"].id)
    cast = {"trust admin": r_admin, "staff": await world.headers_for(PEOPLE_BY_KEY["r-t1"].id)}
    for role, group in (("school_leader", "leader"), ("governor", "governor")):
        resp = await world.gateway.post(
            "/v1/people",
            json={
                "name": f"Riverside {role}",
                "school_ids": [str(RIVERSIDE_HIGH)],
                "staff_group": group,
                "roles": [role] if role == "governor" else [role, "staff"],
            },
            headers=r_admin,
        )
        assert resp.status_code == 201, resp.text
        cast[role.replace("_", " ")] = resp.json()["id"]
    for role, scope in (("qa_reader", "metrics:read"), ("hr_integration", "scim")):
        resp = await world.gateway.post(
            "/v1/clients",
            json={"name": f"Riverside {role}", "roles": [role], "scopes": [scope]},
            headers=r_admin,
        )
        assert resp.status_code == 201, resp.text
        created = resp.json()
        token = await world.client_token(created["client_id"], created["client_secret"])
        cast["QA client" if role == "qa_reader" else "HR client"] = await _bearer(token)
    await world.settle()
    for role in ("school leader", "governor"):
        cast[role] = await world.headers_for(cast[role])  # type: ignore[arg-type]
    return cast


async def _snapshot(world: Stack, target: Target) -> dict[str, Any]:
    seen = {}
    for url in target.reads:
        resp = await world.gateway.get(url, headers=target.viewer)
        # A refusal's body differs by its request id: its status is what counts.
        body = (
            resp.json()
            if resp.status_code == 200 and "json" in resp.headers["content-type"]
            else None
        )
        seen[url] = (resp.status_code, resp.headers.get("etag"), body)
    return seen


def _reads(gets: set[str], op: Operation, url: str) -> list[str]:
    """The op's URL and every prefix of it that the document can GET (the resource, its
    list, its parents), filled with the same ids."""
    template_parts, url_parts = op.path.split("/"), url.split("/")
    reads = []
    for n in range(len(template_parts), 2, -1):
        if "/".join(template_parts[:n]) in gets:
            reads.append("/".join(url_parts[:n]))
    return reads


async def _targets(
    world: Stack, resolver: Resolver, ops: list[Operation], viewers: list[Headers], only: Any
) -> dict[str, Target]:
    targets = {}
    for op in ops:
        # Existing resources first, as whoever reads them; else one the first viewer makes.
        tries = [(viewer, False) for viewer in viewers] + [(viewers[0], only is None)]
        for viewer, create in tries:
            url = await resolver.resolve(op.path, viewer, create=create, only=only)
            if url is None:
                continue
            target = Target(op, url, viewer, _reads(resolver.gets, op, url))
            target.before = await _snapshot(world, target)
            if any(status == 200 for status, _, _ in target.before.values()):
                target.etag = next((e for _, e, _ in target.before.values() if e), None)
                targets[op.key] = target
                break
    return targets


async def build_matrix(world: Stack) -> Matrix:
    doc: dict[str, Any] = (await world.gateway.get("/openapi.json")).json()
    ops = [op for op in operations(doc) if with_ids(op)]
    await _oakridge_setup(world)
    await world.settle()
    admin = await world.headers_for(PEOPLE_BY_KEY["admin"].id)
    hr = await _bearer(await world.client_token("demo-hr", "demo-hr-secret-2026"))
    instruments = (await world.gateway.get("/v1/instruments", headers=admin)).json()["items"]
    builtin_id = next(i["id"] for i in instruments if i.get("kind") == "builtin")
    builtin = (await world.gateway.get(f"/v1/instruments/{builtin_id}", headers=admin)).json()
    coachee = await _oakridge_resources(world, admin, hr, builtin)
    await world.settle()
    oak_ids = {
        "school_id": NORTHFIELD_ID,
        "person_id": str(PEOPLE_BY_KEY["n-t2"].id),
        "mentor_id": str(PEOPLE_BY_KEY["n-head"].id),
        "instrument_id": builtin_id,
    }
    audits = (await world.gateway.get("/v1/audits?limit=200", headers=admin)).json()["items"]
    fixed = {
        # A comparison is of two of the trust's audits: the last listed is the other one.
        "other_id": str(audits[-1]["id"]),
        "version": "1",
        "trust_id": str(OAKRIDGE),
        "school_id": NORTHFIELD_ID,
        "academic_year": "2026-27",
        "mentor_id": str(PEOPLE_BY_KEY["n-head"].id),
    }
    resolver = Resolver(world.gateway, doc, Bodies(doc, oak_ids), fixed=fixed, overrides=OVERRIDES)
    people = [await world.headers_for(PEOPLE_BY_KEY[k].id) for k in ("n-t1", "n-head")]
    viewers = [admin, hr, *people, coachee]
    targets = await _targets(world, resolver, ops, viewers, None)
    school_ops = [op for op in ops if op.key in targets and not op.path.startswith("/scim/")]
    school_targets = await _targets(world, resolver, school_ops, viewers, northfield_only)
    neighbours = {
        role: await world.headers_for(PEOPLE_BY_KEY[key].id)
        for role, key in (("school leader", "s-head"), ("staff", "s-s2"), ("governor", "s-gov"))
    }
    # What Oakridge reads once every resource the targets needed exists and its events are
    # handled (a target made later can change an earlier one's reads: an impact report).
    await world.settle()
    for target in [*targets.values(), *school_targets.values()]:
        target.before = await _snapshot(world, target)
    riverside_ids = {
        "school_id": str(RIVERSIDE_HIGH),
        "person_id": str(PEOPLE_BY_KEY["r-t1"].id),
        "mentor_id": str(PEOPLE_BY_KEY["r-admin"].id),
        "instrument_id": builtin_id,
    }
    return Matrix(
        doc,
        ops,
        targets,
        school_targets,
        await _riverside_cast(world),
        neighbours,
        riverside_ids,
        {
            "school_id": str(SOUTHBANK),
            "person_id": str(PEOPLE_BY_KEY["s-t2"].id),
            "mentor_id": str(PEOPLE_BY_KEY["s-head"].id),
            "instrument_id": builtin_id,
        },
        resolver.created,
    )


async def attack(
    world: Stack, matrix: Matrix, target: Target, who: Headers, ids: dict[str, str] | None = None
) -> Any:
    headers = {**who, "Idempotency-Key": str(uuid.uuid4())}
    if target.etag:
        headers["If-Match"] = target.etag
    body = matrix.body(target.op, ids or matrix.riverside_ids)
    content: dict[str, Any] = {} if body is None else {"json": body}
    query = Bodies(matrix.doc).query(target.op)
    return await world.gateway.request(
        target.op.method, target.url, headers=headers, params=query, **content
    )


async def changed(world: Stack, target: Target) -> list[str]:
    after = await _snapshot(world, target)
    return [url for url in target.reads if after[url] != target.before[url]]
