"""The bad-input catalogue (issue 12, security matrix), on every operation of the merged OpenAPI
document (each JSON body, each list's cursor and limit, each path id): wrong content type, invalid UTF-8, NUL in body, query and path, huge integers in body and query,
malformed cursors and ids, a 1 MB string, duplicated JSON keys, 10,000-deep JSON; and a 10 MB
body at each service and at the gateway. Every answer is a 4xx problem (SCIM's own error
format on ``/scim``), never a 5xx, and every service is ready afterwards."""

from __future__ import annotations

import json
import uuid
from typing import Any

from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY
from cpd_local.stack import Stack

from .operations import Bodies, Operation, operations


def router(op: Operation) -> str:
    parts = op.path.split("/")
    return "/".join(parts[:4] if parts[2] in ("admin", "v2") else parts[:3])


def every_operation(ops: list[Operation]) -> list[tuple[str, dict[str, Operation]]]:
    """Each operation with what the catalogue can aim at in it: its JSON body (``write``), its
    cursor (``list``), its path ids (``item``)."""
    chosen = []
    for op in ops:
        mine: dict[str, Operation] = {}
        if op.method in ("post", "put", "patch") and op.json_schema():
            mine["write"] = op
        queries = {p["name"] for p in op.spec.get("parameters", []) if p.get("in") == "query"}
        if op.method == "get" and "cursor" in queries:
            mine["list"] = op
        if op.params:
            mine["item"] = op
        if mine:
            chosen.append((op.key, mine))
    return chosen


def filled(op: Operation) -> str:
    url = op.path
    for param in op.params:
        url = url.replace("{" + param + "}", str(uuid.uuid4()))
    return url


def first_string(body: Any) -> str | None:
    if isinstance(body, dict):
        return next((k for k, v in body.items() if isinstance(v, str)), None)
    return None


def with_value(body: Any, raw: bytes) -> bytes:
    """``body`` as JSON text with its first string field's value (or a new ``name``) being
    ``raw``, bytes that may not be valid JSON or UTF-8."""
    key = first_string(body) or "name"
    marker = "MARKER-" + uuid.uuid4().hex
    text = json.dumps({**(body if isinstance(body, dict) else {}), key: marker}).encode()
    return text.replace(json.dumps(marker).encode(), raw)


def write_cases(op: Operation, bodies: Bodies) -> dict[str, dict[str, Any]]:
    body = bodies.body(op)
    text = json.dumps(body)
    inner = text[1:-1] if isinstance(body, dict) and body else ""
    joined = (", " + inner) if inner else ""
    cases: dict[str, dict[str, Any]] = {
        "wrong content type": {"content": text, "headers": {"Content-Type": "text/plain"}},
        "invalid UTF-8": {"content": with_value(body, b'"\xff\xfe\xfd"')},
        "NUL in a string": {"content": with_value(body, b'"a\\u0000b"')},
        "raw NUL byte": {"content": with_value(body, b'"a\x00b"')},
        "huge integer": {"content": with_value(body, b"1" + b"0" * 5000)},
        "huge float": {"content": with_value(body, b"1e999999")},
        "10,000-deep JSON": {"content": "[" * 10_000 + "]" * 10_000},
        "not JSON": {"content": "{'single': quotes,}"},
    }
    key = first_string(body)
    if key is not None:
        cases["1 MB string"] = {"json": {**body, key: "a" * (1 << 20)}}
        # The same field twice (parsers differ on which one wins: the gateway, a service and
        # a client's validator must not read different bodies).
        cases["duplicated keys"] = {"content": "{" + json.dumps(key) + ': "other"' + joined + "}"}
    for case in cases.values():
        if "content" in case:
            case.setdefault("headers", {"Content-Type": "application/json"})
    return cases


def read_cases(list_op: Operation | None, item_op: Operation | None) -> dict[str, str]:
    cases = {}
    if list_op is not None:
        url = filled(list_op)
        cases.update(
            {
                "malformed cursor": f"{url}?cursor=%25%25not-a-cursor",
                "cursor of junk base64": f"{url}?cursor=eyJ4IjogWzEsIDJdfQ",
                "cursor of 4 KB": f"{url}?cursor={'A' * 4096}",
                "huge integer in query": f"{url}?limit={'9' * 400}",
                "NUL in query": f"{url}?cursor=a%00b",
            }
        )
    if item_op is not None:
        head, _, tail = item_op.path.partition("{" + item_op.params[0] + "}")
        rest = filled(Operation(item_op.method, tail, item_op.spec)) if "{" in tail else tail
        for name, bad in {
            "malformed id": "not-a-uuid",
            "id of 5,000 characters": "x" * 5000,
            "integer id": "9" * 400,
            "NUL in path": "ab%00cd",
            "invalid UTF-8 in path": "%FF%FE",
        }.items():
            cases[f"{name} ({item_op.method.upper()})"] = (
                f"{item_op.method.upper()} {head}{bad}{rest}"
            )
    return cases


def _check(resp: Any, what: str, scim: bool) -> str | None:
    kind = resp.headers.get("content-type", "")
    # SCIM answers its own error format; the shared guards the problem format, as everywhere.
    wanted = ("application/problem+json", "application/scim+json" if scim else "-")
    if not 400 <= resp.status_code < 500 or not kind.startswith(wanted):
        return f"{what}: {resp.status_code} {kind} {resp.text[:160]}"
    return None


async def readiness(world: Stack) -> dict[str, tuple[int, str]]:
    """Each service's /readyz status and what it says. In-process no worker runs, so every
    readiness names the missing worker heartbeat (503) before and after alike: it must say
    nothing more afterwards (database and broker still reachable)."""
    ready = {}
    for name, service in world.services.items():
        resp = await service.client.get("/readyz")
        ready[name] = (resp.status_code, resp.json().get("detail", ""))
    return ready


async def still_serving(world: Stack, admin: dict[str, str]) -> None:
    for path in ("/v1/people", "/v1/audits", "/v1/lesson-studies", "/v1/activities"):
        resp = await world.gateway.get(path, headers=admin)
        assert resp.status_code == 200, (path, resp.text)


async def test_bad_input_is_a_4xx_problem_and_nothing_breaks(world: Stack) -> None:
    doc: dict[str, Any] = (await world.gateway.get("/openapi.json")).json()
    admin = await world.headers_for(PEOPLE_BY_KEY["admin"].id)
    hr = {"Authorization": "Bearer " + await world.client_token("demo-hr", "demo-hr-secret-2026")}
    bodies = Bodies(doc, {"school_id": str(NORTHFIELD)})
    chosen = every_operation(operations(doc))
    before = await readiness(world)
    wrong, sent = [], 0
    for name, ops in chosen:
        scim = any(op.path.startswith("/scim") for op in ops.values())
        auth = hr if scim else admin
        if "write" in ops:
            op = ops["write"]
            for case, spec in write_cases(op, bodies).items():
                headers = {**auth, **spec.pop("headers", {}), "If-Match": '"x"'}
                resp = await world.gateway.request(op.method, filled(op), headers=headers, **spec)
                sent += 1
                wrong.append(_check(resp, f"{op.key} {case}", scim))
        for case, target in read_cases(ops.get("list"), ops.get("item")).items():
            method, _, url = target.rpartition(" ")
            resp = await world.gateway.request(
                method or "GET", url, headers={**auth, "If-Match": '"x"'}
            )
            sent += 1
            wrong.append(_check(resp, f"{name} {case}: {target[:80]}", scim))
    problems = [w for w in wrong if w]
    assert not problems, "\n".join(problems)
    assert await readiness(world) == before
    await still_serving(world, admin)
    print(f"bad input: {sent} requests on {len(chosen)} operations, all 4xx problems")


async def test_ten_megabyte_bodies_are_refused_everywhere(world: Stack) -> None:
    admin = await world.headers_for(PEOPLE_BY_KEY["admin"].id)
    before = await readiness(world)
    big = b'{"title": "' + b"a" * (10 << 20) + b'"}'
    targets = {
        "gateway": "/v1/groups",
        "audit": "/v1/needs",
        "lessonstudy": "/v1/lesson-studies",
        "evaluation": "/v1/activities",
    }
    for name, path in targets.items():
        for client in (world.services[name].client, world.gateway):
            resp = await client.post(
                path, content=big, headers={**admin, "Content-Type": "application/json"}
            )
            assert resp.status_code == 413, (name, resp.status_code, resp.text[:200])
            assert resp.headers["content-type"].startswith("application/problem+json")
    assert await readiness(world) == before
    await still_serving(world, admin)
