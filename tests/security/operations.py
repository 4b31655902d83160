"""The merged OpenAPI document as the security suite reads it: its operations, a valid JSON body
for each (built from the request schema: required fields only, the smallest values the
constraints allow), and its path filled with real ids of one trust (each id the first one the
list before it shows). New endpoints join every matrix built on this automatically."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

METHODS = ("get", "put", "post", "patch", "delete")
WRITES = ("put", "post", "patch", "delete")
PARAM = re.compile(r"\{(\w+)\}")
# Strings tried, in order, against a schema's pattern (months, academic years, keys, colours).
PATTERN_CANDIDATES = (
    "k1",
    "2026-01",
    "2026-27",
    "2026/27",
    "Y5",
    "#336699",
    "abc",
    "1",
    "a",
    "https://hooks.example.org/cpd",
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def headers(self) -> set[str]:
        return {p["name"] for p in self.spec.get("parameters", []) if p.get("in") == "header"}

    @property
    def media_types(self) -> list[str]:
        return list(self.spec.get("requestBody", {}).get("content", {}))

    def json_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return schema if isinstance(schema, dict) else None


def operations(doc: dict[str, Any]) -> list[Operation]:
    """Every public operation of the document (``/v1`` and ``/scim``), in document order."""
    return [
        Operation(method, path, spec)
        for path, item in doc["paths"].items()
        if path.startswith(("/v1/", "/scim/"))
        for method, spec in item.items()
        if method in METHODS
    ]


class Bodies:
    """Valid request bodies from the document's schemas. ``ids`` fills uuid fields by name
    (``school_id``, ``person_id`` ...), so a body points at the caller's own trust."""

    def __init__(
        self,
        doc: dict[str, Any],
        ids: dict[str, str] | None = None,
        optional: frozenset[str] = frozenset(),
    ) -> None:
        self.schemas: dict[str, Any] = doc["components"]["schemas"]
        self.ids = ids or {}
        self.optional = optional  # optional fields to fill too (from ``ids``)

    def deref(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def properties(self, schema: dict[str, Any]) -> set[str]:
        """The field names a body schema accepts (its object, or the object of its union)."""
        schema = self.deref(schema)
        for option in schema.get("anyOf", []) + schema.get("oneOf", []):
            if self.deref(option).get("type") == "object" or "$ref" in option:
                return self.properties(option)
        return set(schema.get("properties", {}))

    def body(self, op: Operation) -> Any:
        schema = op.json_schema()
        return None if schema is None else self.sample(schema, "")

    def query(self, op: Operation) -> dict[str, Any]:
        """The operation's required query parameters."""
        return {
            p["name"]: self.sample(p.get("schema", {}), p["name"])
            for p in op.spec.get("parameters", [])
            if p.get("in") == "query" and p.get("required")
        }

    def sample(self, schema: dict[str, Any], name: str) -> Any:
        schema = self.deref(schema)
        for union in ("anyOf", "oneOf"):
            if union in schema:
                options = [o for o in schema[union] if self.deref(o).get("type") != "null"]
                return self.sample(options[0], name) if options else None
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.deref(part))
            return self.sample(merged, name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            wanted = [k for k in props if k in schema.get("required", []) or k in self.optional]
            return {k: self.sample(props[k], k) for k in wanted}
        if kind == "array":
            count = max(int(schema.get("minItems", 0)), 1 if name.endswith("_ids") else 0)
            items = schema.get("items", {})
            return [self.sample(items, name.removesuffix("s")) for _ in range(count)]
        if kind == "string":
            return self._string(schema, name)
        if kind == "integer":
            return int(self._number(schema))
        if kind == "number":
            return float(self._number(schema))
        if kind == "boolean":
            return False
        return None

    def _number(self, schema: dict[str, Any]) -> float:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 2) - 1)
        return min(max(low, 1), high)

    def _string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if name in self.optional and name in self.ids:
            return self.ids[name]
        if fmt == "uuid":
            return self.ids.get(name) or self.ids.get(name.removesuffix("_id")) or str(uuid.uuid4())
        ends = name.startswith("end") or "_end" in name or name.startswith("ends")
        if fmt == "date":
            return "2026-01-16" if ends else "2026-01-15"
        if fmt == "date-time":
            return "2026-01-15T11:00:00Z" if ends else "2026-01-15T09:00:00Z"
        if fmt == "email" or "@" in schema.get("pattern", ""):
            return f"sec-{uuid.uuid4().hex[:8]}@oakridge.example"
        if fmt in ("uri", "url") or name.endswith(("url", "uri", "link")) or name == "issuer":
            return "https://hooks.example.org/cpd"
        pattern = schema.get("pattern")
        if pattern:
            return next((c for c in PATTERN_CANDIDATES if re.search(pattern, c)), "x")
        size = max(int(schema.get("minLength", 1)), 1)
        text = ("Security matrix " * (size // 16 + 1))[: max(size, 16)]
        return text[: schema.get("maxLength", len(text))]


class Resolver:
    """Fills a path's ids with real resources a viewer can read: each id taken from the list
    before it (backtracking over the first page when a deeper list is empty), or from another
    list of the same resource (``/v1/measures/{measure_id}`` from an evaluation's measures);
    with ``create``, an empty list gets one item made by its POST (valid generated body)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        doc: dict[str, Any],
        bodies: Bodies,
        *,
        fixed: dict[str, str] | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.client = client
        self.bodies = bodies
        self.fixed = fixed or {}
        self.overrides = overrides or {}
        self.gets = {p for p, item in doc["paths"].items() if "get" in item}
        self.posts = {op.path: op for op in operations(doc) if op.method == "post"}
        self.created: list[str] = []
        self.refused: set[str] = set()
        self._lists: dict[tuple[str, str], list[dict[str, Any]]] = {}

    async def items(self, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        key = (url, headers.get("Authorization", ""))
        if key not in self._lists:
            self._lists[key] = await list_items(self.client, url, headers)
        return self._lists[key]

    async def resolve(
        self,
        path: str,
        headers: dict[str, str],
        *,
        create: bool = False,
        only: Any = None,
    ) -> str | None:
        """``path`` filled, or None; ``only(item)`` filters the candidates for the first id."""
        pieces = re.split(r"\{(\w+)\}", path)  # literal, param, literal, param, ..., tail
        return await self._fill(pieces, 0, "", path, headers, create, only)

    async def _fill(
        self,
        pieces: list[str],
        i: int,
        done: str,
        template: str,
        headers: dict[str, str],
        create: bool,
        only: Any,
    ) -> str | None:
        if i == len(pieces) - 1:
            return done + pieces[i]
        literal, param = pieces[i], pieces[i + 1]
        done += literal
        if param in self.fixed:
            values = [self.fixed[param]]
            if only is not None and i == 0 and not only({param: self.fixed[param]}):
                values = []
        else:
            found = await self._candidates(done.rstrip("/"), template, param, headers, create)
            if only is not None and i == 0:
                found = [v for v in found if only(v)]
            values = [str(v["id"]) for v in found][:25]
        # An existing resource first; only then one made for the purpose.
        for value in values:
            filled = await self._fill(pieces, i + 2, done + value, template, headers, False, None)
            if filled is not None:
                return filled
        for value in values if create else []:
            filled = await self._fill(pieces, i + 2, done + value, template, headers, True, None)
            if filled is not None:
                return filled
        return None

    async def _candidates(
        self, url: str, template: str, param: str, headers: dict[str, str], create: bool
    ) -> list[dict[str, Any]]:
        found = await self.items(url, headers)
        if found:
            return found
        # Parts embedded in their parent and not listed alone (a CPD plan's rows).
        parent, _, name = url.rpartition("/")
        if template[: template.index("{" + param + "}")].rstrip("/").rsplit("/", 1)[0] in self.gets:
            resp = await self.client.get(parent, headers=headers)
            embedded = resp.json().get(name) if resp.status_code == 200 else None
            if isinstance(embedded, list) and all(isinstance(i, dict) for i in embedded):
                if embedded and all("id" in i for i in embedded):
                    return embedded
        list_template = template[: template.index("{" + param + "}")].rstrip("/")
        for other in sorted(self.gets):
            # The same resource listed elsewhere: /v1/evaluations/{plan_id}/measures/{measure_id}
            if other.endswith("/{" + param + "}") and not other.startswith(list_template + "/"):
                elsewhere = await self.resolve(other.rsplit("/", 1)[0], headers, create=create)
                if elsewhere is not None:
                    return await self.items(elsewhere, headers)
        post = self.posts.get(list_template)
        if not create or post is None or post.json_schema() is None or url in self.refused:
            return []
        body = self.overrides.get(post.key) or self.bodies.body(post)
        resp = await self.client.post(url, json=body, headers=headers)
        self._lists.pop((url, headers.get("Authorization", "")), None)
        if resp.status_code >= 300:
            self.refused.add(url)
            return []
        self.created.append(post.key)
        return await self.items(url, headers)


async def list_items(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """The trust's own items of the list at ``url`` (built-in instruments are the platform's
    shared catalogue, read by every trust; SCIM lists say ``Resources``)."""
    resp = await client.get(url, headers=headers)
    if resp.status_code != 200 or not resp.headers.get("content-type", "").startswith(
        ("application/json", "application/scim+json")
    ):
        return []
    body = resp.json()
    items = body.get("items", body.get("Resources")) if isinstance(body, dict) else body
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and "id" in i and i.get("kind") != "builtin"]
