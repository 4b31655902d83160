"""One OpenAPI 3.1 document for the whole public API, served by the gateway: valid, complete
(the gateway's paths and every public path of every service), one bearer security scheme,
every ``$ref`` resolvable; and the docs page."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from cpd_gateway import openapi
from cpd_gateway.proxy import UPSTREAMS, upstream_for
from cpd_local.platform import platform_specs
from cpd_local.stack import start_stack

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
GATEWAY_PATHS = {
    "/auth/token": {"post"},
    "/.well-known/jwks.json": {"get"},
    "/v1/trusts": {"get"},
    "/v1/trusts/{trust_id}": {"get", "patch"},
    "/v1/schools": {"get", "post"},
    "/v1/schools/{school_id}": {"get", "patch"},
    "/v1/people": {"get", "post"},
    "/v1/people/{person_id}": {"get", "patch"},
    "/v1/people/{person_id}/erase": {"post"},
    "/v1/people/{person_id}/erasure": {"get"},
    "/v1/groups": {"get", "post"},
    "/v1/groups/{group_id}": {"get", "patch", "delete"},
    "/v1/clients": {"get", "post"},
    "/v1/clients/{client_id}": {"get", "delete"},
    "/v1/imports/people": {"post"},
    # SCIM 2.0, served by the gateway itself (DESIGN.md section 8).
    "/scim/v2/ServiceProviderConfig": {"get"},
    "/scim/v2/ResourceTypes": {"get"},
    "/scim/v2/Schemas": {"get"},
    "/scim/v2/Users": {"get", "post"},
    "/scim/v2/Users/.search": {"post"},
    "/scim/v2/Users/{user_id}": {"get", "put", "patch", "delete"},
    "/scim/v2/Groups": {"get", "post"},
    "/scim/v2/Groups/.search": {"post"},
    "/scim/v2/Groups/{group_id}": {"get", "put", "patch", "delete"},
}


@dataclass
class Served:
    """What the running platform serves, fetched once for this module (building and validating
    the whole document is the slow part)."""

    doc: dict[str, Any]
    again: dict[str, Any]
    gateway_own_paths: set[str]
    service_paths: dict[str, dict[str, Any]]
    docs_status: int
    docs_type: str
    docs_html: str


@pytest.fixture(scope="module")
async def served(pg_server, nats_server) -> AsyncIterator[Served]:  # type: ignore[no-untyped-def]
    async with start_stack(pg_server, nats_server.url, platform_specs()) as stack:
        resp = await stack.gateway.get("/openapi.json")
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("application/json")
        again = await stack.gateway.get("/openapi.json")
        service_paths = {}
        for service in UPSTREAMS:
            own = await stack.services[service].client.get("/openapi.json")
            assert own.status_code == 200, (service, own.text)
            service_paths[service] = own.json()["paths"]
        docs = await stack.gateway.get("/docs")
        yield Served(
            doc=resp.json(),
            again=again.json(),
            gateway_own_paths=set(stack.services["gateway"].app.openapi()["paths"]),
            service_paths=service_paths,
            docs_status=docs.status_code,
            docs_type=docs.headers["content-type"],
            docs_html=docs.text,
        )


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"external $ref {ref}"
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out.append(value)
            else:
                out.extend(refs(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(refs(value))
    return out


def assert_refs_resolve(doc: dict[str, Any]) -> None:
    found = refs(doc)
    assert found, "a document without a single $ref is suspicious"
    for ref in found:
        resolve(doc, ref)


# ---- the served document ---------------------------------------------------------------------


def test_merged_document_is_valid_openapi_3_1(served: Served) -> None:
    doc = served.doc
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert_refs_resolve(doc)

    op_ids = [op["operationId"] for _, _, op in operations(doc) if "operationId" in op]
    duplicates = {i for i in op_ids if op_ids.count(i) > 1}
    assert not duplicates, duplicates
    # Served without a token, and the same document again (cached once complete).
    assert served.again == doc


def test_merged_document_lists_the_gateway_and_every_public_service_path(
    served: Served,
) -> None:
    paths = served.doc["paths"]
    for path, methods in GATEWAY_PATHS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    for private in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        assert private not in paths

    routed: dict[str, set[str]] = {}
    for service in UPSTREAMS:
        own = served.service_paths[service]
        # Every public path a service serves is one the gateway routes to that service ...
        for path in own:
            if path.startswith("/v1/"):
                assert upstream_for(path) == service, f"{service} serves {path}, not routed to it"
        # ... and is in the merged document with all its operations.
        assert f"/v1/admin/{service}/dead-letters" in own
        for path, item in own.items():
            if upstream_for(path) != service:
                continue
            assert path in paths, f"{service} path {path} missing from the merged document"
            assert {m for m in item if m in HTTP_METHODS} <= set(paths[path]), path
            routed.setdefault(service, set()).add(path)
    assert set(routed) == set(UPSTREAMS)

    # Nothing else sneaks in: each merged path is the gateway's own or routed to a service.
    for path in paths:
        assert path in served.gateway_own_paths or upstream_for(path) is not None, path


def test_one_bearer_security_scheme_used_by_every_protected_operation(served: Served) -> None:
    doc = served.doc
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT"
    bearer_like = [n for n, s in schemes.items() if s.get("scheme", "").lower() == "bearer"]
    assert bearer_like == ["bearerAuth"], "every service's bearer scheme folds into one"

    protected = set()
    for path, method, op in operations(doc):
        for requirement in op.get("security", []):
            for name in requirement:
                assert name in schemes, f"{method} {path} names unknown scheme {name}"
                protected.add((path, method))
    assert ("/v1/people", "get") in protected
    for service in UPSTREAMS:
        assert (f"/v1/admin/{service}/dead-letters", "get") in protected
    # The way in needs no token.
    assert ("/auth/token", "post") not in protected
    assert ("/.well-known/jwks.json", "get") not in protected


def test_docs_page_is_html_pointing_at_the_merged_document(served: Served) -> None:
    assert served.docs_status == 200
    assert served.docs_type.startswith("text/html")
    assert "swagger" in served.docs_html.lower()
    assert "/openapi.json" in served.docs_html


# ---- merging -------------------------------------------------------------------------------


def _service_doc(
    schema: dict[str, Any], path: str, extra_paths: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "svc", "version": "1"},
        "paths": {
            path: {
                "get": {
                    "operationId": "list_things",
                    "security": [{"HTTPBearer": []}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Wrapper"}
                                }
                            },
                        }
                    },
                }
            },
            **(extra_paths or {}),
        },
        "components": {
            "schemas": {
                "ItemRead": schema,
                "Wrapper": {
                    "type": "object",
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/ItemRead"},
                        }
                    },
                },
            },
            "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def test_merge_makes_clashing_component_names_unique() -> None:
    shared = {"type": "object", "properties": {"a": {"type": "string"}}}
    gateway = {
        "openapi": "3.1.0",
        "info": {"title": "gateway", "version": "1.0.0"},
        "paths": {
            "/v1/schools": {
                "get": {
                    "operationId": "list_schools",
                    "security": [{"HTTPBearer": []}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ItemRead"}
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {"ItemRead": copy.deepcopy(shared)},
            "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    audit_item = {"type": "object", "properties": {"b": {"type": "integer"}}}
    evaluation_item = {"type": "object", "properties": {"c": {"type": "boolean"}}}
    not_public = {
        "/internal/reindex": {
            "post": {"operationId": "reindex", "responses": {"204": {"description": "done"}}}
        }
    }
    merged = openapi.merge(
        gateway,
        {
            "audit": _service_doc(audit_item, "/v1/audits", not_public),
            "lessonstudy": _service_doc(copy.deepcopy(shared), "/v1/lesson-studies"),
            "evaluation": _service_doc(evaluation_item, "/v1/activities"),
        },
    )
    validate(merged, cls=OpenAPIV31SpecValidator)
    assert_refs_resolve(merged)
    schemas = merged["components"]["schemas"]
    assert schemas["ItemRead"] == shared
    assert schemas["AuditItemRead"] == audit_item
    assert schemas["EvaluationItemRead"] == evaluation_item

    def item_schema(path: str) -> dict[str, Any]:
        op = merged["paths"][path]["get"]
        wrapper = resolve(
            merged, op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        )
        return resolve(merged, wrapper["properties"]["items"]["items"]["$ref"])

    # Each path still describes its own service's items.
    assert item_schema("/v1/audits") == audit_item
    assert item_schema("/v1/activities") == evaluation_item
    assert item_schema("/v1/lesson-studies") == shared
    gateway_op = merged["paths"]["/v1/schools"]["get"]
    assert (
        resolve(
            merged, gateway_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        )
        == shared
    )

    # Paths the gateway does not route are not published; operation ids stay unique.
    assert "/internal/reindex" not in merged["paths"]
    assert merged["paths"]["/v1/audits"]["get"]["operationId"] == "audit_list_things"
    assert merged["paths"]["/v1/activities"]["get"]["operationId"] == "evaluation_list_things"
    # One security scheme, named the same everywhere.
    assert set(merged["components"]["securitySchemes"]) == {"bearerAuth"}
    for path in ("/v1/schools", "/v1/audits", "/v1/activities", "/v1/lesson-studies"):
        assert merged["paths"][path]["get"]["security"] == [{"bearerAuth": []}]
