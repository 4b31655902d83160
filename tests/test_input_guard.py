"""A NUL character in any input channel (path, query, header, form field, JSON) is a 422 problem
at the gateway and at every service, never a 500: one guard in cpd_common, not one per field."""

from __future__ import annotations

from typing import Any

import pytest

from cpd_local.stack import Stack

# A real, routed path of each app, so that without the guard the NUL would reach a handler.
PATHS = {
    "gateway": "/v1/people",
    "audit": "/v1/instruments",
    "lessonstudy": "/v1/lesson-studies",
    "evaluation": "/v1/admin/evaluation/dead-letters",
}


def _requests(path: str) -> dict[str, dict[str, Any]]:
    return {
        "query": {"method": "GET", "url": path, "params": {"cursor": "abc\x00def"}},
        "query-name": {"method": "GET", "url": path + "?ke%00y=1"},
        "path": {"method": "GET", "url": path + "/bad%00id"},
        "header": {"method": "GET", "url": path, "headers": {"Idempotency-Key": "k\x00ey"}},
        "form": {"method": "POST", "url": path, "data": {"title": "a\x00b"}},
        "json": {"method": "POST", "url": path, "json": {"title": "a\x00b", "x": [1, "\x00"]}},
    }


def _assert_nul_problem(resp: Any, channel: str) -> None:
    assert resp.status_code == 422, (channel, resp.status_code, resp.text)
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == 422
    assert body["errors"] and all("NUL" in e["msg"] for e in body["errors"])
    assert resp.headers["x-request-id"]


@pytest.mark.parametrize("app", list(PATHS))
async def test_nul_in_every_channel_is_a_422_problem(stack: Stack, app: str) -> None:
    direct = stack.services[app].client
    for channel, spec in _requests(PATHS[app]).items():
        _assert_nul_problem(await direct.request(**spec), f"{app} direct {channel}")
        if app != "gateway":
            # Through the gateway as well: refused at the edge.
            _assert_nul_problem(await stack.gateway.request(**spec), f"{app} via gateway {channel}")


@pytest.mark.parametrize(
    "field", ["username", "password", "client_id", "client_secret", "scope", "grant_type"]
)
async def test_nul_in_token_form_fields_is_a_422(stack: Stack, field: str) -> None:
    data = {
        "grant_type": "password" if field in ("username", "password") else "client_credentials",
        "username": "admin@oakridge.example",
        "password": "oakridge-admin-2026",
        "client_id": "demo-qa",
        "client_secret": "demo-qa-secret-2026",
    }
    data[field] = data.get(field, "x") + "\x00"
    resp = await stack.gateway.post("/auth/token", data=data)
    _assert_nul_problem(resp, field)
    assert resp.json()["errors"] == [
        {"loc": f"body.{field}", "msg": resp.json()["errors"][0]["msg"]}
    ]


async def test_text_without_nul_passes_untouched(stack: Stack) -> None:
    """The guard refuses only NUL: the text "%00" (sent as %2500) or a literal backslash-u0000
    in JSON still reaches the route; a raw %00 in a form is a NUL once decoded."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    resp = await stack.gateway.post(
        "/auth/token",
        content=b"grant_type=password&username=nobody%40x.example&password=p%2500x",
        headers=form,
    )
    assert resp.status_code == 401, resp.text  # wrong credentials, checked by the route
    resp = await stack.gateway.post(
        "/auth/token",
        content=b"grant_type=password&username=nobody%40x.example&password=p%00x",
        headers=form,
    )
    _assert_nul_problem(resp, "raw %00")
    resp = await stack.services["audit"].client.post(
        "/v1/needs", json={"title": "a literal \\u0000 is fine"}
    )
    assert resp.status_code == 401, resp.text  # reached the route (which wants a token)


async def test_duplicated_keys_and_too_deep_json_are_422_problems(stack: Stack) -> None:
    """A JSON body naming a key twice (parsers differ on which one wins), nested beyond what
    the parser recurses into, or not UTF-8 is refused by the guard at every app, SCIM's own parsing
    included (it answered 500 to deep JSON); the same key in two objects is fine."""
    cases = {
        b'{"title": "a", "title": "b"}': ("body.title", "names a key twice"),
        b'{"x": {"k": 1, "k": 2}}': ("body.k", "names a key twice"),
        b"[" * 10_000 + b"]" * 10_000: ("body", "is nested too deeply"),
        # JSON is UTF-8: FastAPI's own parsing answered an undeclared 400.
        b'{"title": "\xff\xfe"}': ("body", "is not valid UTF-8"),
    }
    targets = [(stack.services[app].client, path) for app, path in PATHS.items()]
    targets += [(stack.gateway, "/scim/v2/Users"), (stack.gateway, "/v1/needs")]
    for client, path in targets:
        for body, (loc, msg) in cases.items():
            for kind in ("application/json", "application/scim+json"):
                resp = await client.post(path, content=body, headers={"Content-Type": kind})
                assert resp.status_code == 422, (path, kind, resp.status_code, resp.text)
                assert resp.headers["content-type"] == "application/problem+json"
                assert resp.json()["errors"] == [{"loc": loc, "msg": msg}], resp.text
        fine = b'{"a": {"k": 1}, "b": {"k": 2}}'
        resp = await client.post(path, content=fine, headers={"Content-Type": "application/json"})
        # Reached the app's routing: a token wanted (401), or no POST there (405).
        assert resp.status_code in (401, 405), (path, resp.text)
