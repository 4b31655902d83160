"""``GET /v1/me``, changing one's own password, and a trust admin's one-time reset."""

from __future__ import annotations

import uuid

import httpx
import jwt
from sqlalchemy import text

from cpd_common.permissions import CAPABILITIES, capabilities
from cpd_common.testing.api import assert_problem
from cpd_demo.trust import (
    DEMO_CREDENTIALS,
    NORTHFIELD,
    OAKRIDGE,
    PEOPLE,
    SCHOOLS,
)
from cpd_gateway.identity.throttle import LoginThrottle
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
LEADER = DEMO_CREDENTIALS["school leader (Northfield)"]
GOVERNOR = DEMO_CREDENTIALS["governor (Northfield)"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
QA_CLIENT = DEMO_CREDENTIALS["QA API client"]
BY_EMAIL = {p.email: p for p in PEOPLE if p.email}
TEACHER_ID = BY_EMAIL[TEACHER[0]].id
SCHOOL_NAMES = {s["id"]: s["name"] for s in SCHOOLS}
APP = "cpd-web"
NEW_PASSWORD = "a-brand-new-passphrase-2026"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def password_grant(
    stack: Stack, username: str, password: str, client_id: str | None = None
) -> httpx.Response:
    data = {"grant_type": "password", "username": username, "password": password}
    if client_id:
        data["client_id"] = client_id
    return await stack.gateway.post("/auth/token", data=data)


async def refresh(stack: Stack, token: str) -> httpx.Response:
    return await stack.gateway.post(
        "/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": APP},
    )


async def test_me_says_who_i_am_with_schools_roles_and_permissions(seeded: Stack) -> None:
    signed = (await password_grant(seeded, *TEACHER, client_id=APP)).json()
    sid = jwt.decode(signed["access_token"], options={"verify_signature": False})["sid"]
    resp = await seeded.gateway.get("/v1/me", headers=bearer(signed["access_token"]))
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    me = resp.json()
    teacher = BY_EMAIL[TEACHER[0]]
    assert me["kind"] == "person" and me["id"] == str(teacher.id)
    assert me["name"] == teacher.name and me["email"] == TEACHER[0]
    assert me["trust"] == {"id": str(OAKRIDGE), "name": "Oakridge Learning Trust"}
    assert me["schools"] == [
        {"id": str(s), "name": SCHOOL_NAMES[s]}
        for s in sorted(teacher.school_ids, key=lambda s: SCHOOL_NAMES[s])
    ]
    assert NORTHFIELD in teacher.school_ids
    assert me["roles"] == sorted(teacher.roles)
    assert me["permissions"] == capabilities(teacher.roles)
    assert "people:search" in me["permissions"] and "audits:create" not in me["permissions"]
    assert me["has_password"] is True and me["session_id"] == sid

    leader = (await seeded.gateway.get("/v1/me", headers=await seeded.auth(*LEADER))).json()
    assert (
        "audits:create" in leader["permissions"] and "clients:manage" not in leader["permissions"]
    )
    assert leader["session_id"] is None
    admin = (await seeded.gateway.get("/v1/me", headers=await seeded.auth(*ADMIN))).json()
    assert {"clients:manage", "people:reset_password", "audits:create"} <= set(admin["permissions"])
    governor = (await seeded.gateway.get("/v1/me", headers=await seeded.auth(*GOVERNOR))).json()
    assert governor["permissions"] == sorted(CAPABILITIES["governor"])

    qa = await seeded.client_token(*QA_CLIENT)
    client = (await seeded.gateway.get("/v1/me", headers=bearer(qa))).json()
    assert client["kind"] == "client" and client["client_id"] == QA_CLIENT[0]
    assert client["permissions"] == ["metrics:read"] and client["schools"] == []

    assert_problem(await seeded.gateway.get("/v1/me"), 401)


async def test_me_follows_the_directory_not_the_token(seeded: Stack) -> None:
    teacher_headers = await seeded.auth(*TEACHER)
    admin = await seeded.auth(*ADMIN)
    got = await seeded.gateway.get(f"/v1/people/{TEACHER_ID}", headers=admin)
    roles = sorted({*got.json()["roles"], "school_leader"})
    changed = await seeded.gateway.patch(
        f"/v1/people/{TEACHER_ID}",
        headers={**admin, "If-Match": got.headers["etag"]},
        json={"roles": roles},
    )
    assert changed.status_code == 200, changed.text
    me = (await seeded.gateway.get("/v1/me", headers=teacher_headers)).json()
    assert me["roles"] == roles and "audits:create" in me["permissions"]


async def test_change_own_password(seeded: Stack) -> None:
    here = (await password_grant(seeded, *TEACHER, client_id=APP)).json()
    elsewhere = (await password_grant(seeded, *TEACHER, client_id=APP)).json()
    headers = bearer(here["access_token"])

    wrong = await seeded.gateway.post(
        "/v1/me/password",
        headers=headers,
        json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
    )
    assert assert_problem(wrong, 403)["errors"] == [
        {"loc": "body.current_password", "msg": "not right"}
    ]
    short = await seeded.gateway.post(
        "/v1/me/password",
        headers=headers,
        json={"current_password": TEACHER[1], "new_password": "short"},
    )
    assert [e["loc"] for e in assert_problem(short, 422)["errors"]] == ["body.new_password"]
    same = await seeded.gateway.post(
        "/v1/me/password",
        headers=headers,
        json={"current_password": TEACHER[1], "new_password": TEACHER[1]},
    )
    assert_problem(same, 422)
    # Nothing changed so far.
    assert (await password_grant(seeded, *TEACHER)).status_code == 200

    done = await seeded.gateway.post(
        "/v1/me/password",
        headers=headers,
        json={"current_password": TEACHER[1], "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 204, done.text
    assert_problem(await password_grant(seeded, *TEACHER), 401)
    assert (await password_grant(seeded, TEACHER[0], NEW_PASSWORD)).status_code == 200
    # This session goes on; the other one has ended.
    assert (await refresh(seeded, here["refresh_token"])).status_code == 200
    assert_problem(await refresh(seeded, elsewhere["refresh_token"]), 401)

    qa = await seeded.client_token(*QA_CLIENT)
    assert_problem(
        await seeded.gateway.post(
            "/v1/me/password",
            headers=bearer(qa),
            json={"current_password": "x", "new_password": NEW_PASSWORD},
        ),
        403,
    )


async def test_wrong_current_passwords_are_throttled(seeded: Stack) -> None:
    seeded.services["gateway"].app.state.login_throttle = LoginThrottle(
        per_account=2, per_address=100, window_seconds=600
    )
    headers = await seeded.auth(*TEACHER)
    statuses = []
    for _ in range(4):
        resp = await seeded.gateway.post(
            "/v1/me/password",
            headers=headers,
            json={"current_password": "guess-guess-guess", "new_password": NEW_PASSWORD},
        )
        statuses.append(resp.status_code)
    assert statuses[0] == 403 and statuses[-1] == 429, statuses


async def test_admin_reset_ends_sessions_and_old_password_then_the_token_works_once(
    seeded: Stack,
) -> None:
    session = (await password_grant(seeded, *TEACHER, client_id=APP)).json()
    admin = await seeded.auth(*ADMIN)

    # Only a trust admin of the person's trust.
    leader = await seeded.auth(*LEADER)
    assert_problem(
        await seeded.gateway.post(f"/v1/people/{TEACHER_ID}/password-reset", headers=leader), 403
    )
    other_trust = await seeded.auth(*RIVERSIDE_ADMIN)
    assert_problem(
        await seeded.gateway.post(f"/v1/people/{TEACHER_ID}/password-reset", headers=other_trust),
        404,
    )
    assert_problem(
        await seeded.gateway.post(f"/v1/people/{uuid.uuid4()}/password-reset", headers=admin), 404
    )

    first = await seeded.gateway.post(f"/v1/people/{TEACHER_ID}/password-reset", headers=admin)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    issued = await seeded.gateway.post(f"/v1/people/{TEACHER_ID}/password-reset", headers=admin)
    body = issued.json()
    assert body["person_id"] == str(TEACHER_ID) and body["reset_token"]

    # The old password and every session are over at once.
    assert_problem(await password_grant(seeded, *TEACHER), 401)
    assert_problem(await refresh(seeded, session["refresh_token"]), 401)
    me = await seeded.gateway.get("/v1/me", headers=bearer(session["access_token"]))
    assert me.json()["has_password"] is False
    assert_problem(
        await seeded.gateway.post(
            "/v1/me/password",
            headers=bearer(session["access_token"]),
            json={"current_password": TEACHER[1], "new_password": NEW_PASSWORD},
        ),
        409,
    )
    async with seeded.session("gateway") as db:
        stored = (await db.execute(text("SELECT token_hash FROM password_resets"))).scalars()
        assert body["reset_token"] not in set(stored)

    # The earlier reset was replaced by the newer one.
    stale = await seeded.gateway.post(
        "/auth/password-reset",
        json={"reset_token": first.json()["reset_token"], "new_password": NEW_PASSWORD},
    )
    assert_problem(stale, 401)
    short = await seeded.gateway.post(
        "/auth/password-reset", json={"reset_token": body["reset_token"], "new_password": "x"}
    )
    assert_problem(short, 422)
    used = await seeded.gateway.post(
        "/auth/password-reset",
        json={"reset_token": body["reset_token"], "new_password": NEW_PASSWORD},
    )
    assert used.status_code == 204, used.text
    assert (await password_grant(seeded, TEACHER[0], NEW_PASSWORD)).status_code == 200
    again = await seeded.gateway.post(
        "/auth/password-reset",
        json={"reset_token": body["reset_token"], "new_password": "yet-another-one-2026"},
    )
    assert_problem(again, 401)
    assert (await password_grant(seeded, TEACHER[0], NEW_PASSWORD)).status_code == 200


async def test_a_reset_gives_a_login_to_someone_without_one_and_expires(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    created = await seeded.gateway.post(
        "/v1/people",
        headers=admin,
        json={"name": "Nina Brook", "email": "nina.brook@oakridge.example", "school_ids": []},
    )
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    assert created.json()["has_login"] is False
    issued = (
        await seeded.gateway.post(f"/v1/people/{person_id}/password-reset", headers=admin)
    ).json()
    done = await seeded.gateway.post(
        "/auth/password-reset",
        json={"reset_token": issued["reset_token"], "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 204, done.text
    assert (
        await password_grant(seeded, "nina.brook@oakridge.example", NEW_PASSWORD)
    ).status_code == 200

    again = (
        await seeded.gateway.post(f"/v1/people/{person_id}/password-reset", headers=admin)
    ).json()
    async with seeded.session("gateway") as db:
        await db.execute(text("UPDATE password_resets SET expires_at = now() - interval '1 s'"))
        await db.commit()
    expired = await seeded.gateway.post(
        "/auth/password-reset",
        json={"reset_token": again["reset_token"], "new_password": "yet-another-one-2026"},
    )
    assert "expired" in assert_problem(expired, 401)["detail"]

    no_email = await seeded.gateway.post(
        "/v1/people", headers=admin, json={"name": "Nobody Mail", "school_ids": []}
    )
    assert_problem(
        await seeded.gateway.post(
            f"/v1/people/{no_email.json()['id']}/password-reset", headers=admin
        ),
        422,
    )
