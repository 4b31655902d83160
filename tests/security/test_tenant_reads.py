"""Tenant isolation, first slice (issue 12): every GET operation of the merged OpenAPI document
whose path ids can be filled from list endpoints with real Oakridge resources (the demo
content, read as Oakridge's trust admin, who gets 200) answers Riverside's trust admin 404 or
403, never data. The full matrix (every method, every role, another school) is still to come."""

from __future__ import annotations

from typing import Any

from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_local.stack import Stack


async def _first_id(stack: Stack, url: str, headers: dict[str, str]) -> str | None:
    resp = await stack.gateway.get(url, headers=headers)
    if resp.status_code != 200 or not resp.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return None
    body = resp.json()
    items = body.get("items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return None
    # Built-in instruments are the platform's shared catalogue, read by every trust.
    own = [i for i in items if isinstance(i, dict) and "id" in i and i.get("kind") != "builtin"]
    return str(own[0]["id"]) if own else None


async def resolve(stack: Stack, path: str, headers: dict[str, str]) -> str | None:
    """``path`` with each ``{param}`` replaced by the first id the list before it shows."""
    done = ""
    rest = path
    while "{" in rest:
        before, _, after = rest.partition("{")
        _param, _, rest = after.partition("}")
        done += before
        value = await _first_id(stack, done.rstrip("/"), headers)
        if value is None:
            return None
        done += value
    return done + rest


async def test_another_trusts_resources_answer_404_or_403(world: Stack) -> None:
    doc: dict[str, Any] = (await world.gateway.get("/openapi.json")).json()
    owner = await world.headers_for(PEOPLE_BY_KEY["admin"].id)
    other = await world.headers_for(PEOPLE_BY_KEY["r-admin"].id)
    covered, leaks = 0, []
    for path, item in doc["paths"].items():
        if "{" not in path or "get" not in item or not path.startswith("/v1/"):
            continue
        url = await resolve(world, path, owner)
        if url is None:
            continue
        own = await world.gateway.get(url, headers=owner)
        assert own.status_code < 429, f"GET {url}: {own.status_code} {own.text[:150]}"
        if own.status_code != 200:
            continue
        covered += 1
        resp = await world.gateway.get(url, headers=other)
        if resp.status_code not in {403, 404}:
            leaks.append(f"GET {url} ({path}): {resp.status_code} {resp.text[:150]}")
    assert not leaks, "\n".join(leaks)
    print(f"tenant reads: {covered} GET operations covered")
    assert covered >= 85, covered
