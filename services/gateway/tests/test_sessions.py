"""Front-end sessions: refresh tokens that rotate, work once, are bound to their app, and
die with the session (logout, replay of a spent token, deactivation)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import httpx
import jwt
from sqlalchemy import text

from cpd_common.testing.api import assert_problem
from cpd_demo.trust import DEMO_CREDENTIALS, PEOPLE
from cpd_local.stack import Stack

TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
ADMIN = DEMO_CREDENTIALS["trust admin"]
APP = "cpd-web"
TEACHER_ID = next(p.id for p in PEOPLE if p.email == TEACHER[0])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(stack: Stack, creds: tuple[str, str], client_id: str = APP) -> dict[str, Any]:
    resp = await stack.gateway.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": creds[0],
            "password": creds[1],
            "client_id": client_id,
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    return dict(resp.json())


async def refresh(stack: Stack, token: str, client_id: str | None = APP) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    if client_id is not None:
        data["client_id"] = client_id
    return await stack.gateway.post("/auth/token", data=data)


async def session_row(stack: Stack, session_id: str) -> Any:
    async with stack.session("gateway") as db:
        return (
            await db.execute(
                text("SELECT * FROM sign_in_sessions WHERE id = :id"), {"id": session_id}
            )
        ).one()


async def test_refresh_tokens_rotate_and_are_stored_only_as_hashes(seeded: Stack) -> None:
    first = await sign_in(seeded, TEACHER)
    assert first["refresh_token"] and first["expires_in"] == 900
    sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]

    resp = await refresh(seeded, first["refresh_token"])
    assert resp.status_code == 200, resp.text
    second = resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    claims = jwt.decode(second["access_token"], options={"verify_signature": False})
    assert claims["sid"] == sid
    assert claims["sub"] == f"person:{TEACHER_ID}"
    # The new access token works.
    me = await seeded.gateway.get("/v1/me/sessions", headers=bearer(second["access_token"]))
    assert me.status_code == 200, me.text
    assert [(s["id"], s["current"], s["client_id"]) for s in me.json()["items"]] == [
        (sid, True, APP)
    ]
    # Only hashes are stored, never the tokens.
    async with seeded.session("gateway") as db:
        hashes = set((await db.execute(text("SELECT token_hash FROM refresh_tokens"))).scalars())
    for raw in (first["refresh_token"], second["refresh_token"]):
        assert hashlib.sha256(raw.encode()).hexdigest() in hashes
        assert raw not in hashes
    # The next one rotates again.
    third = await refresh(seeded, second["refresh_token"])
    assert third.status_code == 200, third.text


async def test_replaying_a_spent_refresh_token_revokes_the_whole_session(seeded: Stack) -> None:
    first = await sign_in(seeded, TEACHER)
    sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    rotated = await refresh(seeded, first["refresh_token"])
    assert rotated.status_code == 200
    newest = rotated.json()["refresh_token"]

    replay = await refresh(seeded, first["refresh_token"])
    body = assert_problem(replay, 401)
    assert "already used" in body["detail"]
    assert body["type"].endswith("invalid-grant")
    row = await session_row(seeded, sid)
    assert row.revoked_at is not None and row.revoked_reason == "reuse"
    # The thief's (or the app's) newer token is dead too.
    assert_problem(await refresh(seeded, newest), 401)
    # Another session of the same person is untouched.
    other = await sign_in(seeded, TEACHER)
    assert (await refresh(seeded, other["refresh_token"])).status_code == 200


async def test_a_refresh_token_works_only_for_the_app_that_obtained_it(seeded: Stack) -> None:
    seeded.services["gateway"].settings.frontend_clients = {
        APP: ["http://localhost:5173/auth/callback"],
        "cpd-mobile": ["http://localhost:5174/cb"],
    }
    first = await sign_in(seeded, TEACHER)
    other_app = await refresh(seeded, first["refresh_token"], client_id="cpd-mobile")
    assert "another client" in assert_problem(other_app, 401)["detail"]
    no_client = await refresh(seeded, first["refresh_token"], client_id=None)
    assert_problem(no_client, 401)
    # Refused, not spent: the right app can still use it.
    assert (await refresh(seeded, first["refresh_token"])).status_code == 200


async def test_unknown_app_bad_tokens_and_missing_fields(seeded: Stack) -> None:
    unknown = await seeded.gateway.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": TEACHER[0],
            "password": TEACHER[1],
            "client_id": "evil-app",
        },
    )
    assert assert_problem(unknown, 401)["type"].endswith("invalid-client")
    assert_problem(await refresh(seeded, "not-a-token"), 401)
    missing = await seeded.gateway.post("/auth/token", data={"grant_type": "refresh_token"})
    assert assert_problem(missing, 422)["errors"] == [
        {"loc": "body.refresh_token", "msg": "field required"}
    ]
    # Without client_id the password grant stays as it was: an access token, no session.
    plain = await seeded.gateway.post(
        "/auth/token",
        data={"grant_type": "password", "username": TEACHER[0], "password": TEACHER[1]},
    )
    assert plain.status_code == 200 and "refresh_token" not in plain.json()
    async with seeded.session("gateway") as db:
        assert (await db.execute(text("SELECT count(*) FROM sign_in_sessions"))).scalar() == 0


async def test_logout_by_refresh_token_or_by_access_token(seeded: Stack) -> None:
    first = await sign_in(seeded, TEACHER)
    rotated = (await refresh(seeded, first["refresh_token"])).json()
    # Logout with a spent token of the family ends the family.
    out = await seeded.gateway.post(
        "/auth/logout", data={"refresh_token": first["refresh_token"], "client_id": APP}
    )
    assert out.status_code == 204, out.text
    assert_problem(await refresh(seeded, rotated["refresh_token"]), 401)
    again = await seeded.gateway.post(
        "/auth/logout", data={"refresh_token": first["refresh_token"], "client_id": APP}
    )
    assert again.status_code == 204
    unknown = await seeded.gateway.post(
        "/auth/logout", data={"refresh_token": "nothing-like-it", "client_id": APP}
    )
    assert unknown.status_code == 204

    second = await sign_in(seeded, TEACHER)
    sid = jwt.decode(second["access_token"], options={"verify_signature": False})["sid"]
    out = await seeded.gateway.post("/auth/logout", headers=bearer(second["access_token"]))
    assert out.status_code == 204, out.text
    assert (await session_row(seeded, sid)).revoked_reason == "logout"
    assert_problem(await refresh(seeded, second["refresh_token"]), 401)
    nothing = await seeded.gateway.post("/auth/logout")
    assert_problem(nothing, 422)


async def test_sessions_list_and_sign_out_one(seeded: Stack) -> None:
    one = await sign_in(seeded, TEACHER)
    two = await sign_in(seeded, TEACHER)
    admin = await sign_in(seeded, ADMIN)
    listed = await seeded.gateway.get("/v1/me/sessions", headers=bearer(one["access_token"]))
    items = listed.json()["items"]
    assert len(items) == 2 and sum(s["current"] for s in items) == 1
    two_sid = jwt.decode(two["access_token"], options={"verify_signature": False})["sid"]
    admin_sid = jwt.decode(admin["access_token"], options={"verify_signature": False})["sid"]
    # Someone else's session is a 404, like a missing one.
    assert_problem(
        await seeded.gateway.delete(
            f"/v1/me/sessions/{admin_sid}", headers=bearer(one["access_token"])
        ),
        404,
    )
    assert_problem(
        await seeded.gateway.delete(
            f"/v1/me/sessions/{uuid.uuid4()}", headers=bearer(one["access_token"])
        ),
        404,
    )
    gone = await seeded.gateway.delete(
        f"/v1/me/sessions/{two_sid}", headers=bearer(one["access_token"])
    )
    assert gone.status_code == 204
    assert_problem(await refresh(seeded, two["refresh_token"]), 401)
    assert (await refresh(seeded, admin["refresh_token"])).status_code == 200
    listed = await seeded.gateway.get("/v1/me/sessions", headers=bearer(one["access_token"]))
    assert [s["id"] for s in listed.json()["items"]] != [two_sid]
    assert len(listed.json()["items"]) == 1


async def test_a_deactivated_person_cannot_refresh(seeded: Stack) -> None:
    first = await sign_in(seeded, TEACHER)
    sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    admin = await seeded.auth(*ADMIN)
    person_id = TEACHER_ID
    got = await seeded.gateway.get(f"/v1/people/{person_id}", headers=admin)
    changed = await seeded.gateway.patch(
        f"/v1/people/{person_id}",
        headers={**admin, "If-Match": got.headers["etag"]},
        json={"active": False},
    )
    assert changed.status_code == 200, changed.text
    assert_problem(await refresh(seeded, first["refresh_token"]), 401)
    assert (await session_row(seeded, sid)).revoked_reason == "deactivated"


async def test_an_expired_session_cannot_refresh(seeded: Stack) -> None:
    first = await sign_in(seeded, TEACHER)
    sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    async with seeded.session("gateway") as db:
        await db.execute(
            text("UPDATE sign_in_sessions SET expires_at = now() - interval '1 s' WHERE id = :id"),
            {"id": sid},
        )
        await db.commit()
    assert "ended" in assert_problem(await refresh(seeded, first["refresh_token"]), 401)["detail"]


async def test_two_uses_of_one_refresh_token_at_once_leave_one_winner_then_revoke(
    seeded: Stack,
) -> None:
    """Concurrent uses queue on the token's row: one is answered, the other is a replay."""
    first = await sign_in(seeded, TEACHER)
    sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    a, b = await asyncio.gather(
        refresh(seeded, first["refresh_token"]), refresh(seeded, first["refresh_token"])
    )
    assert sorted([a.status_code, b.status_code]) == [200, 401], (a.text, b.text)
    assert (await session_row(seeded, sid)).revoked_reason == "reuse"
    winner = a if a.status_code == 200 else b
    assert_problem(await refresh(seeded, winner.json()["refresh_token"]), 401)
    async with seeded.session("gateway") as db:
        spent = (
            await db.execute(
                text(
                    "SELECT count(*) FROM refresh_tokens t JOIN sign_in_sessions s"
                    " ON s.id = t.session_id WHERE s.id = :id AND t.used_at IS NOT NULL"
                ),
                {"id": sid},
            )
        ).scalar()
    assert spent == 1


async def test_housekeeping_forgets_ended_sessions_with_their_tokens(seeded: Stack) -> None:
    from cpd_gateway.sessions.service import prune_ended

    ended = await sign_in(seeded, TEACHER)
    live = await sign_in(seeded, TEACHER)
    old_sid = jwt.decode(ended["access_token"], options={"verify_signature": False})["sid"]
    async with seeded.session("gateway") as db:
        await db.execute(
            text(
                "UPDATE sign_in_sessions SET revoked_at = now() - interval '8 days',"
                " revoked_reason = 'logout' WHERE id = :id"
            ),
            {"id": old_sid},
        )
        await db.commit()
    async with seeded.session("gateway") as db, db.begin():
        assert await prune_ended(db) == 1
    async with seeded.session("gateway") as db:
        left = (await db.execute(text("SELECT session_id FROM refresh_tokens"))).scalars().all()
    assert old_sid not in {str(s) for s in left} and len(left) == 1
    assert (await refresh(seeded, live["refresh_token"])).status_code == 200
