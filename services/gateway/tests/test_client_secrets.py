"""API client secrets: ids are generated, a secret can be rotated (the previous one works for a
short overlap), and revocation stops every secret and every issued token at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text

from cpd_common.db import utcnow
from cpd_demo.trust import DEMO_CREDENTIALS
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
LEADER = DEMO_CREDENTIALS["school leader (Northfield)"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]


async def grant(stack: Stack, client_id: str, secret: str) -> httpx.Response:
    return await stack.gateway.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def new_client(stack: Stack, admin: dict[str, str]) -> dict[str, Any]:
    resp = await stack.gateway.post(
        "/v1/clients", headers=admin, json={"name": "HR feed", "roles": ["hr_integration"]}
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def test_client_ids_are_generated_never_chosen(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    chosen = await seeded.gateway.post(
        "/v1/clients",
        headers=admin,
        json={"name": "Mine", "client_id": "demo-hr", "roles": ["hr_integration"]},
    )
    assert chosen.status_code == 422, chosen.text
    assert [e["loc"] for e in chosen.json()["errors"]] == ["body.client_id"]
    first, second = await new_client(seeded, admin), await new_client(seeded, admin)
    for client in (first, second):
        assert client["client_id"].startswith("client-") and len(client["client_id"]) == 23
    assert first["client_id"] != second["client_id"]


async def test_rotation_keeps_the_previous_secret_for_the_overlap_only(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    client = await new_client(seeded, admin)
    old_token = await seeded.client_token(client["client_id"], client["client_secret"])
    url = f"/v1/clients/{client['id']}/secret"

    rotated = await seeded.gateway.post(url, headers=admin)
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    body = rotated.json()
    new_secret = body["client_secret"]
    assert new_secret != client["client_secret"] and len(new_secret) >= 32
    assert body["client_id"] == client["client_id"]
    overlap = seeded.services["gateway"].settings.client_secret_overlap_seconds
    assert overlap == 600
    expires = body["previous_secret_expires_at"]
    assert expires and body["secret_rotated_at"]
    got = await seeded.gateway.get(f"/v1/clients/{client['id']}", headers=admin)
    assert new_secret not in got.text and got.json()["previous_secret_expires_at"] == expires

    # Both secrets work during the overlap; tokens issued before still work.
    assert (await grant(seeded, client["client_id"], client["client_secret"])).status_code == 200
    assert (await grant(seeded, client["client_id"], new_secret)).status_code == 200
    trusts = await seeded.gateway.get(
        "/v1/trusts", headers={"Authorization": f"Bearer {old_token}"}
    )
    assert trusts.status_code != 401, trusts.text

    # After the overlap only the new one.
    async with seeded.session("gateway") as session:
        await session.execute(
            text("UPDATE api_clients SET previous_secret_expires_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(seconds=1), "id": client["id"]},
        )
        await session.commit()
    assert (await grant(seeded, client["client_id"], client["client_secret"])).status_code == 401
    assert (await grant(seeded, client["client_id"], new_secret)).status_code == 200

    # Rotating twice: the first secret never comes back, at most two work at once.
    third = (await seeded.gateway.post(url, headers=admin)).json()["client_secret"]
    assert (await grant(seeded, client["client_id"], client["client_secret"])).status_code == 401
    assert (await grant(seeded, client["client_id"], new_secret)).status_code == 200
    assert (await grant(seeded, client["client_id"], third)).status_code == 200


async def test_only_the_trusts_admin_rotates(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    client = await new_client(seeded, admin)
    url = f"/v1/clients/{client['id']}/secret"
    for who in (RIVERSIDE_ADMIN, LEADER):
        resp = await seeded.gateway.post(url, headers=await seeded.auth(*who))
        assert resp.status_code == 404, resp.text
    # The client itself cannot rotate its own secret with its token either.
    token = await seeded.client_token(client["client_id"], client["client_secret"])
    resp = await seeded.gateway.post(url, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404
    assert (await grant(seeded, client["client_id"], client["client_secret"])).status_code == 200


async def test_revocation_stops_every_secret_and_token_at_once(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    client = await new_client(seeded, admin)
    token = await seeded.client_token(client["client_id"], client["client_secret"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await seeded.gateway.get("/v1/trusts", headers=bearer)).status_code != 401
    rotated = (
        await seeded.gateway.post(f"/v1/clients/{client['id']}/secret", headers=admin)
    ).json()

    url = f"/v1/clients/{client['id']}"
    etag = (await seeded.gateway.get(url, headers=admin)).headers["etag"]
    resp = await seeded.gateway.delete(url, headers={**admin, "If-Match": etag})
    assert resp.status_code == 204, resp.text
    # The issued token: refused on the gateway's routes and at the proxy, at once.
    for path in ("/v1/trusts", "/v1/audits"):
        assert (await seeded.gateway.get(path, headers=bearer)).status_code == 401, path
    # No secret gives a new token: neither the current one nor the previous one in its overlap.
    for secret in (client["client_secret"], rotated["client_secret"]):
        assert (await grant(seeded, client["client_id"], secret)).status_code == 401
    again = await seeded.gateway.post(f"/v1/clients/{client['id']}/secret", headers=admin)
    assert again.status_code == 409 and again.json()["title"] == "API client revoked"
