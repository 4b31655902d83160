"""The OpenAPI document is the contract: every operation declares the error statuses it can
answer, each with the :class:`~cpd_common.errors.Problem` body as ``application/problem+json``
(what the server actually sends), and the ETag / If-Match / Idempotency-Key headers it uses.

Applied to each service's own document (by the app factory) and again to the gateway's
merged one, so both tell the same story."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from cpd_common.errors import PROBLEM_JSON, PROBLEM_TEXT, Problem
from cpd_common.idempotency import ApiRoute

METHODS = frozenset({"get", "put", "post", "patch", "delete", "head", "options", "trace"})
PROBLEM_REF = "#/components/schemas/Problem"
# RFC 7644 answers SCIM errors as application/scim+json with its own error schema.
OWN_ERROR_FORMAT_PREFIXES = ("/scim/",)

ETAG_HEADER = {
    "description": "Strong ETag of the resource; send it back as `If-Match` to change it.",
    "schema": {"type": "string"},
}
REPLAYED_HEADER = {
    "description": "`true` when this is the stored answer to an earlier request with the same "
    "`Idempotency-Key`.",
    "schema": {"type": "string", "enum": ["true"]},
}
IF_MATCH_PARAM = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag from your last GET: required (428 without it, 412 if stale).",
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY_PARAM = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (max 200 characters): a retry with the same key and "
    "body answers the first result again, with `Idempotent-Replayed: true`.",
    "schema": {"type": "string", "maxLength": 200},
}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}


def _ensure_problem_schema(doc: dict[str, Any]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" in schemas:
        return
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas["Problem"] = schema


def _is_error(status: str) -> bool:
    return status[:1] in {"4", "5"} and status[1:].isdigit()


def _add(responses: dict[str, Any], status: int) -> int:
    key = str(status)
    if key in responses:
        return 0
    responses[key] = {"description": PROBLEM_TEXT.get(status, "Error")}
    return 1


def complete_problem_responses(doc: dict[str, Any]) -> int:
    """Rewrites every 4xx/5xx response of every operation to the Problem body as
    ``application/problem+json`` and adds the statuses any operation can answer: 401 when it
    is secured, 404 when its path has a parameter, 422 when it takes parameters or a body,
    503 always. Idempotent; returns how many operation/status pairs it added."""
    _ensure_problem_schema(doc)
    added = 0
    for path, item in doc.get("paths", {}).items():
        if path.startswith(OWN_ERROR_FORMAT_PREFIXES):
            continue
        shared_params = item.get("parameters", []) if isinstance(item, dict) else []
        for method, op in item.items():
            if method not in METHODS or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            if op.get("security"):
                added += _add(responses, 401)
            if "{" in path:
                added += _add(responses, 404)
            if op.get("parameters") or shared_params or "requestBody" in op:
                added += _add(responses, 422)
            added += _add(responses, 503)
            for status, response in responses.items():
                if _is_error(str(status)) and isinstance(response, dict):
                    response["content"] = _problem_content()
    return added


def _calls(endpoint: Any, name: str) -> bool:
    code = getattr(endpoint, "__code__", None)
    return code is not None and name in code.co_names


def _requires_roles(dependant: Any) -> bool:
    """True when ``require_roles`` (403 for other roles) guards the operation."""
    stack = [dependant]
    while stack:
        node = stack.pop()
        if getattr(node.call, "__qualname__", "") == "require_roles.<locals>.check":
            return True
        stack.extend(node.dependencies)
    return False


def annotate_routes(app: FastAPI, doc: dict[str, Any]) -> None:
    """What only the routes know: 403 where ``require_roles`` guards it, PATCH/PUT/DELETE handlers that enforce ``If-Match`` (412,
    428 and the request header), handlers answering a resource with its ``ETag``, and the
    ``Idempotency-Key`` every POST of an :class:`~cpd_common.idempotency.ApiRoute` takes."""
    paths = doc.get("paths", {})
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if not isinstance(original, APIRoute) or not original.include_in_schema:
            continue
        item = paths.get(route.path_format)
        if not isinstance(item, dict):
            continue
        for method in route.methods or ():
            op = item.get(method.lower())
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            params = op.setdefault("parameters", [])
            names = {(p.get("in"), str(p.get("name", "")).lower()) for p in params}
            if _requires_roles(route.dependant):
                _add(responses, 403)
            if _calls(route.endpoint, "require_if_match"):
                _add(responses, 412)
                _add(responses, 428)
                if ("header", "if-match") not in names:
                    params.append(dict(IF_MATCH_PARAM))
            if _calls(route.endpoint, "resource_response") or _calls(route.endpoint, "etag_of"):
                for status, response in responses.items():
                    if str(status).startswith("2") and isinstance(response, dict):
                        response.setdefault("headers", {}).setdefault("ETag", ETAG_HEADER)
            if method == "POST" and isinstance(original, ApiRoute):
                if ("header", "idempotency-key") not in names:
                    params.append(dict(IDEMPOTENCY_KEY_PARAM))
                for status, response in responses.items():
                    if str(status).startswith("2") and isinstance(response, dict):
                        response.setdefault("headers", {}).setdefault(
                            "Idempotent-Replayed", REPLAYED_HEADER
                        )
            if not params:
                op.pop("parameters")


def install_contract_openapi(app: FastAPI) -> None:
    """Makes ``app.openapi()`` the completed contract (built once, then cached by FastAPI)."""
    generate = app.openapi

    def contract_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            annotate_routes(app, doc)
            complete_problem_responses(doc)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = contract_openapi  # type: ignore[method-assign]
