"""Errors as every service gets them from cpd_common, checked on the tiny service of
:mod:`tiny_service`: problem+json for validation errors, 404, 405, 500 without a stack trace,
503 with Retry-After when the database is down, and 401/403 from token verification against a
JWKS (refreshed on an unknown kid)."""

from __future__ import annotations

import time
import uuid

from .tiny_service import RETRY_AFTER, Service, assert_problem, count_rows

# ---- errors ----------------------------------------------------------------------------------


async def test_unhandled_exception_is_500_problem_without_internals(svc: Service) -> None:
    resp = await svc.client.get(
        "/v1/boom", headers={**svc.keys.headers(), "X-Request-ID": "rid-500-test"}
    )
    body = assert_problem(resp, 500)
    assert body["request_id"] == "rid-500-test"
    assert resp.headers["x-request-id"] == "rid-500-test"
    assert body["instance"] == "/v1/boom"
    for leak in ("Traceback", "RuntimeError", "secret-internal-detail", "app.py", 'File "'):
        assert leak not in resp.text, leak


async def test_crash_after_a_write_rolls_it_back(svc: Service) -> None:
    headers = svc.keys.headers()
    crashed = await svc.client.post(
        "/v1/items/crash-after-write", headers=headers, json={"name": "ghost", "qty": 1}
    )
    assert "secret-internal-detail" not in assert_problem(crashed, 500)["detail"]
    refused = await svc.client.post(
        "/v1/items/conflict-after-write", headers=headers, json={"name": "ghost", "qty": 1}
    )
    assert assert_problem(refused, 409)["detail"] == "Changed my mind."
    assert await count_rows(svc.check, "SELECT count(*) FROM items") == 0


async def test_database_unreachable_is_503_with_retry_after(down: Service) -> None:
    headers = {**down.keys.headers(), "X-Request-ID": "rid-db-down"}
    for method, path, kwargs in (
        ("GET", "/v1/db-check", {}),
        ("GET", "/v1/items", {}),
        ("GET", f"/v1/items/{uuid.uuid4()}", {}),
        ("POST", "/v1/items", {"json": {"name": "x", "qty": 1}}),
        (
            "POST",
            "/v1/items",
            {"json": {"name": "x", "qty": 1}, "headers": {"Idempotency-Key": "while-down"}},
        ),
    ):
        extra = kwargs.pop("headers", {})
        resp = await down.client.request(method, path, headers={**headers, **extra}, **kwargs)
        body = assert_problem(resp, 503)
        assert resp.headers["retry-after"] == str(RETRY_AFTER), (method, path)
        assert body["request_id"] == "rid-db-down"
        assert "Traceback" not in resp.text

    ready = await down.client.get("/readyz")
    assert_problem(ready, 503)
    assert ready.headers["retry-after"] == str(RETRY_AFTER)
    healthy = await down.client.get("/healthz")
    assert healthy.status_code == 200 and healthy.json() == {"status": "ok"}


async def test_validation_errors_are_422_problems_with_an_errors_list(svc: Service) -> None:
    headers = svc.keys.headers()
    resp = await svc.client.post("/v1/items", headers=headers, json={"qty": -1})
    body = assert_problem(resp, 422)
    errors = {e["loc"]: e["msg"] for e in body["errors"]}
    assert set(errors) == {"body.name", "body.qty"}
    assert errors["body.name"] == "Field required"
    assert "greater than or equal to 0" in errors["body.qty"]
    assert "body.name" in body["detail"] and "body.qty" in body["detail"]

    unknown = await svc.client.post(
        "/v1/items", headers=headers, json={"name": "pen", "qty": 1, "colour": "red"}
    )
    assert assert_problem(unknown, 422)["errors"] == [
        {"loc": "body.colour", "msg": "unknown field"}
    ]

    for resp, loc in (
        (await svc.client.get("/v1/items/not-a-uuid", headers=headers), "path.item_id"),
        (await svc.client.get("/v1/items?limit=0", headers=headers), "query.limit"),
        (await svc.client.get("/v1/items?limit=201", headers=headers), "query.limit"),
        (await svc.client.get("/v1/items?cursor=%%%", headers=headers), "query.cursor"),
    ):
        assert [e["loc"] for e in assert_problem(resp, 422)["errors"]] == [loc]

    not_json = await svc.client.post(
        "/v1/items",
        headers={**headers, "Content-Type": "application/json"},
        content=b'{"name": "pen", ',
    )
    assert assert_problem(not_json, 422)["errors"]
    wrong_type = await svc.client.post("/v1/items", headers=headers, json=["a", "list"])
    assert assert_problem(wrong_type, 422)["errors"]
    nul = await svc.client.post("/v1/items", headers=headers, json={"name": "pe\u0000n", "qty": 1})
    assert "NUL" in assert_problem(nul, 422)["errors"][0]["msg"]
    assert await count_rows(svc.check, "SELECT count(*) FROM items") == 0


async def test_unknown_route_is_404_and_wrong_method_405_problems(svc: Service) -> None:
    for path in ("/v1/nope", "/nope", "/v1/items/x/y/z"):
        body = assert_problem(await svc.client.get(path, headers={"X-Request-ID": "rid-404"}), 404)
        assert body["instance"] == path and body["request_id"] == "rid-404"
    wrong = await svc.client.delete("/v1/items")
    assert_problem(wrong, 405)
    allow = {m.strip() for m in wrong.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allow and "DELETE" not in allow
    wrong_item = await svc.client.put(f"/v1/items/{uuid.uuid4()}")
    assert_problem(wrong_item, 405)
    assert {"GET", "PATCH"} <= {m.strip() for m in wrong_item.headers["allow"].split(",")}


async def test_missing_or_bad_tokens_are_401_and_missing_roles_403(svc: Service) -> None:
    resp = await svc.client.get("/v1/items")
    assert_problem(resp, 401)
    assert resp.headers["www-authenticate"] == "Bearer"
    for token in (
        "garbage",
        svc.keys.token(aud="another-api"),
        svc.keys.token(iss="https://elsewhere.test"),
        svc.keys.token(exp=int(time.time()) - 60, iat=int(time.time()) - 1000),
    ):
        assert_problem(
            await svc.client.get("/v1/items", headers={"Authorization": f"Bearer {token}"}), 401
        )
    assert_problem(
        await svc.client.get("/v1/admin-only", headers=svc.keys.headers(roles=["staff"])), 403
    )
    ok = await svc.client.get("/v1/admin-only", headers=svc.keys.headers())
    assert ok.status_code == 200


async def test_a_new_key_is_trusted_at_once_but_made_up_kids_do_not_hammer_the_jwks(
    svc: Service,
) -> None:
    keys = svc.keys
    assert (await svc.client.get("/v1/items", headers=keys.headers())).status_code == 200
    assert keys.fetches == 1
    for _ in range(3):
        assert (await svc.client.get("/v1/items", headers=keys.headers())).status_code == 200
    assert keys.fetches == 1, "the JWKS is cached"

    # The gateway rotates: a token signed with the new key works right away.
    new_kid = keys.add_key()
    resp = await svc.client.get("/v1/items", headers=keys.headers(new_kid))
    assert resp.status_code == 200, resp.text
    assert keys.fetches == 2

    # Tokens naming keys nobody published cost one more fetch, not one each (a second only
    # if the refresh interval passed meanwhile).
    for _ in range(10):
        made_up = keys.add_key(publish=False)
        assert_problem(await svc.client.get("/v1/items", headers=keys.headers(made_up)), 401)
    assert 3 <= keys.fetches <= 4
    # Known keys are unaffected meanwhile.
    assert (await svc.client.get("/v1/items", headers=keys.headers(new_kid))).status_code == 200


def test_a_database_starting_up_or_shutting_down_is_unavailable_not_a_server_error() -> None:
    """PostgreSQL restarting answers "the database system is starting up" (57P03): SQLAlchemy
    wraps asyncpg's error in its own adapter class, so the cause must be looked through
    (seen as 500s in tests/reliability while PostgreSQL came back)."""
    import asyncpg
    from sqlalchemy.exc import DBAPIError

    from cpd_common.errors import is_unavailable

    class Error(Exception):  # SQLAlchemy's asyncpg adapter error: no sqlstate of its own
        pass

    for cause in (
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
    ):
        adapted = Error(str(cause))
        adapted.__cause__ = cause
        wrapped = DBAPIError("SELECT 1", None, adapted)
        assert is_unavailable(wrapped), cause
    assert not is_unavailable(DBAPIError("SELECT 1", None, Error("syntax error")))
    assert not is_unavailable(ValueError("a bug"))
