"""One OpenAPI 3.1 document for the whole public API: the gateway's own paths plus every
service's public paths (the ones the gateway routes to it), with component names made
unique and one bearer security scheme."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from cpd_common.openapi_contract import complete_problem_responses
from cpd_gateway.proxy import Upstreams, upstream_for

log = logging.getLogger("cpd.openapi")

SECURITY_SCHEME = "bearerAuth"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (
                key == "$ref"
                and isinstance(value, str)
                and value.startswith("#/components/schemas/")
            ):
                name = value.rsplit("/", 1)[1]
                out[key] = "#/components/schemas/" + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _use_one_security_scheme(paths: dict[str, Any], schemes: dict[str, Any]) -> None:
    bearer_names = {
        name
        for name, s in schemes.items()
        if s.get("type") == "http" and s.get("scheme", "").lower() == "bearer"
    }
    for item in paths.values():
        for op in item.values():
            if not isinstance(op, dict) or "security" not in op:
                continue
            op["security"] = [
                {SECURITY_SCHEME if k in bearer_names else k: v for k, v in req.items()}
                for req in op["security"]
            ]


def merge(gateway_doc: dict[str, Any], service_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = copy.deepcopy(gateway_doc)
    merged["openapi"] = "3.1.0"
    merged["info"] = {
        "title": "CPD platform API",
        "version": gateway_doc.get("info", {}).get("version", "1.0.0"),
        "description": (
            "Audit CPD, plan it against your priorities, run Lesson Study and evaluate its "
            "impact. Get a token at `POST /auth/token`, then send `Authorization: Bearer "
            "<token>`. Errors are RFC 9457 problem+json; lists are cursor-paginated; PATCH needs "
            "`If-Match`; creates accept `Idempotency-Key`."
        ),
    }
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemes = components.setdefault("securitySchemes", {})
    _use_one_security_scheme(merged.get("paths", {}), schemes)
    for name in [
        n
        for n, s in schemes.items()
        if s.get("type") == "http" and s.get("scheme", "").lower() == "bearer"
    ]:
        schemes.pop(name)
    schemes[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Access token from POST /auth/token",
    }
    paths = merged.setdefault("paths", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    for service, doc in service_docs.items():
        doc = copy.deepcopy(doc)
        their_schemas = doc.get("components", {}).get("schemas", {})
        renames: dict[str, str] = {}
        for name, schema in their_schemas.items():
            if name in schemas and json.dumps(schemas[name], sort_keys=True) != json.dumps(
                _rewrite_refs(schema, {}), sort_keys=True
            ):
                renames[name] = f"{service.capitalize()}{name}"
        their_paths = {
            p: item for p, item in doc.get("paths", {}).items() if upstream_for(p) == service
        }
        their_paths = _rewrite_refs(their_paths, renames)
        _use_one_security_scheme(their_paths, doc.get("components", {}).get("securitySchemes", {}))
        for item in their_paths.values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    op["operationId"] = f"{service}_{op['operationId']}"
        paths.update(their_paths)
        for name, schema in their_schemas.items():
            schemas[renames.get(name, name)] = _rewrite_refs(schema, renames)
        for tag in doc.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    _edge_responses(paths, has_problem="Problem" in schemas)
    complete_problem_responses(merged)
    return merged


METHODS = frozenset({"get", "put", "post", "patch", "delete", "head", "options"})
EDGE = {
    "413": "The body is larger than the limit (1 MiB; `text/csv` uploads 20 MiB).",
    "429": "Too many requests (`RateLimit-*` headers); wait `Retry-After` seconds.",
}


def _edge_responses(paths: dict[str, Any], *, has_problem: bool) -> None:
    """What the edge may answer for any operation: 413 (body limit) where a body is taken,
    429 (rate limit) where a token is sent."""
    content = (
        {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        if has_problem
        else {"application/problem+json": {"schema": {"type": "object"}}}
    )
    for item in paths.values():
        for method, op in item.items():
            if method not in METHODS or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if "requestBody" in op:
                responses.setdefault("413", {"description": EDGE["413"], "content": content})
            if op.get("security"):
                responses.setdefault("429", {"description": EDGE["429"], "content": content})


async def fetch_service_docs(upstreams: Upstreams) -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for name, session in upstreams.sessions.items():
        try:
            async with session.get(upstreams.base_urls[name] + "/openapi.json") as resp:
                if resp.status == 200:
                    docs[name] = await resp.json(content_type=None)
        except Exception as exc:
            log.warning("no OpenAPI document from %s: %s", name, exc)
    return docs
