"""The conventions every service gets from cpd_common, checked on the tiny service of
:mod:`tiny_service`: one transaction per request committed before the response, ETag /
If-Match, cursor pagination, Idempotency-Key, request ids, and /healthz, /readyz, /metrics."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import text

from .tiny_service import Service, assert_problem, count_rows

# ---- one transaction per request, committed before the response -----------------------------


async def test_write_is_committed_before_the_response_starts(svc: Service) -> None:
    resp = await svc.client.post(
        "/v1/items", headers=svc.keys.headers(), json={"name": "pen", "qty": 3}
    )
    assert resp.status_code == 201, resp.text
    # Another connection saw the row at the moment the 201 started, not after.
    assert svc.at_response_start == [(201, 1)]
    item_id = uuid.UUID(resp.json()["id"])
    assert await count_rows(svc.check, "SELECT count(*) FROM items WHERE id = :id", id=item_id) == 1


async def test_a_commit_that_fails_answers_an_error_and_stores_nothing(svc: Service) -> None:
    headers = svc.keys.headers()
    first = await svc.client.post(
        "/v1/items", headers=headers, json={"name": "pen", "qty": 1, "code": "DUP"}
    )
    assert first.status_code == 201, first.text

    # The duplicate passes INSERT and flush; the deferred constraint fails at COMMIT.
    for key in (None, "dup-key", "dup-key"):
        extra = {"Idempotency-Key": key} if key else {}
        again = await svc.client.post(
            "/v1/items",
            headers={**headers, **extra},
            json={"name": "pencil", "qty": 2, "code": "DUP"},
        )
        # A unique violation is the client's conflict, even when it surfaces at COMMIT.
        assert again.status_code == 409, again.text
        assert_problem(again, 409)
        assert "idempotent-replayed" not in again.headers
    assert svc.at_response_start[0] == (201, 1)
    assert all(status >= 400 and rows == 1 for status, rows in svc.at_response_start[1:])
    assert await count_rows(svc.check, "SELECT count(*) FROM items WHERE code = 'DUP'") == 1
    assert await count_rows(svc.check, "SELECT count(*) FROM items WHERE name = 'pencil'") == 0
    assert await count_rows(svc.check, "SELECT count(*) FROM idempotency_keys") == 0


# ---- ETag, If-Match, pagination, Idempotency-Key ---------------------------------------------


async def test_etag_and_if_match(svc: Service) -> None:
    headers = svc.keys.headers()
    created = await svc.client.post("/v1/items", headers=headers, json={"name": "pen", "qty": 1})
    url = created.headers["location"]
    got = await svc.client.get(url, headers=headers)
    etag = got.headers["etag"]
    assert etag == created.headers["etag"] and re.fullmatch(r'"[0-9a-f]{24}"', etag)
    assert (await svc.client.get(url, headers=headers)).headers["etag"] == etag, "stable"

    assert_problem(await svc.client.patch(url, headers=headers, json={"qty": 2}), 428)
    assert_problem(
        await svc.client.patch(url, headers={**headers, "If-Match": '"stale"'}, json={"qty": 2}),
        412,
    )
    done = await svc.client.patch(url, headers={**headers, "If-Match": etag}, json={"qty": 2})
    assert done.status_code == 200 and done.json()["qty"] == 2
    assert done.headers["etag"] != etag
    assert (await svc.client.get(url, headers=headers)).headers["etag"] == done.headers["etag"]
    weak = await svc.client.patch(
        url, headers={**headers, "If-Match": f'"other", W/{done.headers["etag"]}'}, json={"qty": 3}
    )
    assert weak.status_code == 200, weak.text
    # Another tenant cannot see it, with or without preconditions.
    other = svc.keys.headers()
    assert_problem(await svc.client.get(url, headers=other), 404)
    assert_problem(
        await svc.client.patch(url, headers={**other, "If-Match": "*"}, json={"qty": 9}), 404
    )


async def test_cursor_pagination(svc: Service) -> None:
    trust = str(uuid.uuid4())
    headers = svc.keys.headers(trust_id=trust)
    async with svc.check.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO items (id, trust_id, name, qty, created_at, updated_at) "
                "SELECT gen_random_uuid(), :trust, 'item ' || n, n, now(), now() "
                "FROM generate_series(1, 57) AS n"
            ),
            {"trust": trust},
        )
        await conn.execute(
            text(
                "INSERT INTO items (id, trust_id, name, qty, created_at, updated_at) "
                "VALUES (gen_random_uuid(), gen_random_uuid(), 'other tenant', 1, now(), now())"
            )
        )
    first = (await svc.client.get("/v1/items", headers=headers)).json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = (await svc.client.get("/v1/items", headers=headers, params=params)).json()
        assert len(page["items"]) <= 7
        seen.extend(i["id"] for i in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 57
    assert seen == sorted(seen, key=uuid.UUID)
    everything = (await svc.client.get("/v1/items", headers=headers, params={"limit": 200})).json()
    assert [i["id"] for i in everything["items"]] == seen and everything["next_cursor"] is None


async def test_idempotency_key(svc: Service) -> None:
    headers = {**svc.keys.headers(sub="person:" + str(uuid.uuid4())), "Idempotency-Key": "k-1"}
    body = {"name": "pen", "qty": 1}
    first = await svc.client.post("/v1/items", headers=headers, json=body)
    replay = await svc.client.post("/v1/items", headers=headers, json=body)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["etag"] == first.headers["etag"]
    assert await count_rows(svc.check, "SELECT count(*) FROM items") == 1

    changed = await svc.client.post("/v1/items", headers=headers, json={**body, "qty": 2})
    assert_problem(changed, 409)
    # The same key from somebody else is their own key.
    someone = {**svc.keys.headers(), "Idempotency-Key": "k-1"}
    theirs = await svc.client.post("/v1/items", headers=someone, json=body)
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    too_long = await svc.client.post(
        "/v1/items", headers={**headers, "Idempotency-Key": "k" * 201}, json=body
    )
    assert_problem(too_long, 422)
    assert await count_rows(svc.check, "SELECT count(*) FROM items") == 2
    stored = await count_rows(svc.check, "SELECT count(*) FROM idempotency_keys WHERE key = 'k-1'")
    assert stored == 2


# ---- request ids, health and metrics ---------------------------------------------------------


async def test_request_ids(svc: Service) -> None:
    ok = await svc.client.get("/healthz", headers={"X-Request-ID": "abc-123_x.y:z"})
    assert ok.headers["x-request-id"] == "abc-123_x.y:z"
    for bad in ("has spaces", "x" * 129, "semi;colon"):
        resp = await svc.client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["x-request-id"]), bad
    generated = {(await svc.client.get("/healthz")).headers["x-request-id"] for _ in range(3)}
    assert len(generated) == 3


async def test_health_readiness_and_metrics(svc: Service) -> None:
    assert (await svc.client.get("/healthz")).json() == {"status": "ok"}
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"

    headers = svc.keys.headers()
    item = await svc.client.post("/v1/items", headers=headers, json={"name": "pen", "qty": 1})
    await svc.client.get(item.headers["location"], headers=headers)
    await svc.client.get("/v1/does-not-exist")
    metrics = await svc.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = [
        line
        for line in metrics.text.splitlines()
        if line.startswith("cpd_http_requests_total{") and 'service="conventions"' in line
    ]
    assert any('route="/v1/items/{item_id}"' in line and 'status="200"' in line for line in lines)
    assert any('route="/v1/items"' in line and 'status="201"' in line for line in lines)
    assert any('route="unmatched"' in line and 'status="404"' in line for line in lines)
    assert item.json()["id"] not in metrics.text, "ids must not become metric labels"
    assert "cpd_http_request_seconds_bucket" in metrics.text


async def test_service_app_lists_no_health_routes_in_its_schema(svc: Service) -> None:
    doc = (await svc.client.get("/openapi.json")).json()
    assert "/v1/items" in doc["paths"]
    assert not {"/healthz", "/readyz", "/metrics"} & set(doc["paths"])
