"""The OpenAPI documents are the contract: in the gateway's merged document and in every
service's own, each error response is the ``Problem`` body as ``application/problem+json``,
every secured operation declares 401, every operation on a path with an id declares 404, and
the documents are valid. Then real bad requests through the gateway (unknown id, no token,
bad body) answer a status the operation declares, as problem+json."""

from __future__ import annotations

import uuid
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from cpd_demo.trust import DEMO_CREDENTIALS
from cpd_gateway.proxy import UPSTREAMS, upstream_for
from cpd_local.stack import Stack

METHODS = {"get", "put", "post", "patch", "delete"}
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ADMIN = DEMO_CREDENTIALS["trust admin"]
SAMPLE = 3


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS and not path.startswith("/scim/")
    ]


def contract_breaches(doc: dict[str, Any]) -> list[str]:
    out = []
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "errors" in problem["properties"]
    for path, method, op in operations(doc):
        responses = op["responses"]
        for status, response in responses.items():
            if status[0] in "45" and response.get("content") != PROBLEM:
                out.append(f"{method.upper()} {path} {status}: {response.get('content')}")
        wanted = {"503"}
        if op.get("security"):
            wanted.add("401")
        if "{" in path:
            wanted.add("404")
        if "requestBody" in op or op.get("parameters"):
            wanted.add("422")
        out += [f"{method.upper()} {path}: no {s}" for s in sorted(wanted - set(responses))]
    return out


async def test_every_document_declares_its_problems(stack: Stack) -> None:
    resp = await stack.gateway.get("/openapi.json")
    assert resp.status_code == 200, resp.text
    docs = {"merged": resp.json()}
    for service in UPSTREAMS:
        own = await stack.services[service].client.get("/openapi.json")
        assert own.status_code == 200, (service, own.text)
        docs[service] = own.json()
    docs["gateway"] = stack.services["gateway"].app.openapi()
    checked = 0
    for name, doc in docs.items():
        validate(doc, cls=OpenAPIV31SpecValidator)
        assert contract_breaches(doc) == [], name
        checked += len(operations(doc))
    assert checked > 300
    merged = docs["merged"]
    # Where the handlers enforce If-Match, the document says so; creates take Idempotency-Key.
    patch = merged["paths"]["/v1/audits/{audit_id}"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])
    assert "If-Match" in {p["name"] for p in patch["parameters"]}
    create = merged["paths"]["/v1/audits"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    assert "Idempotent-Replayed" in create["responses"]["201"]["headers"]
    # require_roles guards these (on the route, on the whole router): 403 is declared.
    assert "403" in merged["paths"]["/v1/follow-ups"]["get"]["responses"]
    assert "ETag" in merged["paths"]["/v1/audits/{audit_id}"]["get"]["responses"]["200"]["headers"]


def _uuid_id_only(path: str, op: dict[str, Any]) -> bool:
    params = [p for p in op.get("parameters", []) if p["in"] == "path"]
    return (
        len(params) == 1
        and params[0]["schema"].get("format") == "uuid"
        and path.endswith("}")
        and not [p for p in op.get("parameters", []) if p.get("required") and p["in"] != "path"]
    )


def _json_body(op: dict[str, Any]) -> bool:
    return "application/json" in op.get("requestBody", {}).get("content", {})


def assert_declared(op: dict[str, Any], resp: Any, what: str, expected: set[int]) -> None:
    assert resp.status_code in expected, (what, resp.status_code, resp.text[:300])
    assert str(resp.status_code) in op["responses"], (what, resp.status_code)
    assert resp.headers["content-type"] == "application/problem+json", what


async def test_real_bad_requests_answer_declared_problems(demo: Stack) -> None:
    doc = (await demo.gateway.get("/openapi.json")).json()
    headers = await demo.auth(*ADMIN)
    sent = 0
    for service in (*UPSTREAMS, "gateway"):
        ops = [
            (path, method, op)
            for path, method, op in operations(doc)
            if (upstream_for(path) or "gateway") == service
        ]
        unknown = [o for o in ops if o[1] == "get" and _uuid_id_only(o[0], o[2])][:SAMPLE]
        secured = [o for o in ops if o[1] == "get" and o[2].get("security")][:SAMPLE]
        bodies = [o for o in ops if o[1] == "post" and _json_body(o[2]) and "{" not in o[0]]
        assert unknown and secured and bodies, service
        for path, _method, op in unknown:
            url = path.split("{")[0] + str(uuid.uuid4())
            resp = await demo.gateway.get(url, headers=headers)
            assert_declared(op, resp, f"GET {url}", {404})
            sent += 1
        for path, _method, op in secured:
            url = path.split("{")[0] + str(uuid.uuid4()) if "{" in path else path
            resp = await demo.gateway.get(url)
            assert_declared(op, resp, f"GET {url} without a token", {401})
            sent += 1
        for path, _method, op in bodies[:SAMPLE]:
            resp = await demo.gateway.post(path, json={"no_such_field": [1, 2]}, headers=headers)
            assert_declared(op, resp, f"POST {path} bad body", {400, 403, 422})
            if resp.status_code == 422:
                assert resp.json()["errors"], path
            sent += 1
    assert sent >= 30
