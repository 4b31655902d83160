"""Single sign-on with a trust's OpenID Connect provider (a real one, served locally by the
test): configuration by trust admins (the secret never answered), the authorization code flow
with PKCE for single-page apps, and every way it must refuse: wrong audience, wrong nonce,
expired or forged ID token, unknown person, a person of another trust."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import text

from cpd_common.testing.api import assert_problem
from cpd_demo.trust import DEMO_CREDENTIALS, OAKRIDGE, PEOPLE, RIVERSIDE
from cpd_gateway.secret_box import SecretBox
from cpd_local.stack import DEV_SECRETS_KEY, Stack

from .oidc_provider import OidcProvider, running_provider

ADMIN = DEMO_CREDENTIALS["trust admin"]
LEADER = DEMO_CREDENTIALS["school leader (Northfield)"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
APP = "cpd-web"
REDIRECT = "http://localhost:5173/auth/callback"
BY_NAME = {p.name: p for p in PEOPLE}
JESS = BY_NAME["Jess Okafor"]
SAM = BY_NAME["Sam Patel"]


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@pytest.fixture
async def idp() -> AsyncIterator[OidcProvider]:
    async with running_provider() as provider:
        yield provider


async def configure(stack: Stack, idp: OidcProvider, **extra: Any) -> httpx.Response:
    admin = await stack.auth(*ADMIN)
    body = {
        "issuer": idp.issuer,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
        **extra,
    }
    return await stack.gateway.put(f"/v1/trusts/{OAKRIDGE}/sso", headers=admin, json=body)


async def set_external_id(stack: Stack, person_id: Any, external_id: str) -> None:
    admin = await stack.auth(*ADMIN)
    got = await stack.gateway.get(f"/v1/people/{person_id}", headers=admin)
    resp = await stack.gateway.patch(
        f"/v1/people/{person_id}",
        headers={**admin, "If-Match": got.headers["etag"]},
        json={"external_id": external_id},
    )
    assert resp.status_code == 200, resp.text


async def sign_in(
    stack: Stack,
    idp: OidcProvider,
    identity: dict[str, Any],
    *,
    tamper: dict[str, Any] | None = None,
    trust_id: Any = OAKRIDGE,
) -> tuple[dict[str, str], str]:
    """Walks a browser through the flow; answers what the app's redirect URI received and the
    app's PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    start = await stack.gateway.get(
        "/auth/sso/authorize",
        params={
            "trust_id": str(trust_id),
            "client_id": APP,
            "redirect_uri": REDIRECT,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
            "state": "app-state-1",
        },
    )
    assert start.status_code == 302, start.text
    to_provider = start.headers["location"]
    assert to_provider.startswith(f"{idp.issuer}/authorize?")
    sent = parse_qs(urlsplit(to_provider).query)
    assert sent["code_challenge_method"] == ["S256"] and sent["nonce"][0]
    idp.identity, idp.tamper = identity, dict(tamper or {})
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(to_provider)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/auth/sso/callback"
    answered = await stack.gateway.get(f"{back.path}?{back.query}")
    assert answered.status_code == 302, answered.text
    assert answered.headers["cache-control"] == "no-store"
    to_app = urlsplit(answered.headers["location"])
    assert f"{to_app.scheme}://{to_app.netloc}{to_app.path}" == REDIRECT
    got = {k: v[0] for k, v in parse_qs(to_app.query).items()}
    assert got["state"] == "app-state-1"
    return got, verifier


async def exchange(stack: Stack, code: str, verifier: str, **extra: str) -> httpx.Response:
    return await stack.gateway.post(
        "/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": APP,
            "redirect_uri": REDIRECT,
            **extra,
        },
    )


async def test_trust_admins_configure_the_provider_and_never_see_the_secret(
    seeded: Stack, idp: OidcProvider
) -> None:
    admin = await seeded.auth(*ADMIN)
    url = f"/v1/trusts/{OAKRIDGE}/sso"
    assert_problem(await seeded.gateway.get(url, headers=admin), 404)
    no_secret = await seeded.gateway.put(
        url, headers=admin, json={"issuer": idp.issuer, "client_id": idp.client_id}
    )
    assert [e["loc"] for e in assert_problem(no_secret, 422)["errors"]] == ["body.client_secret"]
    plain_http = await configure(seeded, idp, issuer="http://idp.example.org")
    assert [e["loc"] for e in assert_problem(plain_http, 422)["errors"]] == ["body.issuer"]
    no_openid = await configure(seeded, idp, scopes=["email"])
    assert_problem(no_openid, 422)

    created = await configure(seeded, idp, external_id_claim="oid")
    assert created.status_code == 201, created.text
    assert created.headers["location"] == url
    body = created.json()
    assert idp.client_secret not in created.text
    assert body["client_secret_set"] is True and "client_secret" not in body
    assert body["redirect_uri"].endswith("/auth/sso/callback")
    assert body["scopes"] == ["openid", "email", "profile"] and body["external_id_claim"] == "oid"

    # Replacing it without a secret keeps the stored one.
    kept = await seeded.gateway.put(
        url, headers=admin, json={"issuer": idp.issuer, "client_id": idp.client_id}
    )
    assert kept.status_code == 200, kept.text
    async with seeded.session("gateway") as db:
        stored = (
            await db.execute(text("SELECT client_secret_encrypted FROM sso_configs"))
        ).scalar_one()
    # Stored encrypted (the sign-ins below show it still works with the provider).
    assert idp.client_secret not in stored
    assert SecretBox(DEV_SECRETS_KEY).open(stored) == idp.client_secret
    got = await seeded.gateway.get(url, headers=admin)
    assert got.status_code == 200 and got.headers["etag"]
    assert idp.client_secret not in got.text

    # Only a trust admin, only of this trust.
    assert_problem(await seeded.gateway.get(url, headers=await seeded.auth(*LEADER)), 403)
    other = await seeded.auth(*RIVERSIDE_ADMIN)
    assert_problem(await seeded.gateway.get(url, headers=other), 404)
    assert_problem(
        await seeded.gateway.put(
            url,
            headers=other,
            json={"issuer": idp.issuer, "client_id": "x", "client_secret": "y"},
        ),
        404,
    )

    gone = await seeded.gateway.delete(url, headers=admin)
    assert gone.status_code == 204
    assert_problem(await seeded.gateway.get(url, headers=admin), 404)


async def test_signing_in_by_external_id_gives_a_session_and_the_code_works_once(
    seeded: Stack, idp: OidcProvider
) -> None:
    assert (await configure(seeded, idp)).status_code == 201
    await set_external_id(seeded, JESS.id, "idp-user-jess")
    got, verifier = await sign_in(seeded, idp, {"sub": "idp-user-jess"})
    assert set(got) == {"code", "state"}, got

    wrong_verifier = await exchange(seeded, got["code"], secrets.token_urlsafe(48))
    assert "code_verifier" in assert_problem(wrong_verifier, 401)["detail"]
    other_redirect = await exchange(
        seeded, got["code"], verifier, redirect_uri="http://localhost:5173/elsewhere"
    )
    assert_problem(other_redirect, 401)

    tokens = await exchange(seeded, got["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["refresh_token"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"person:{JESS.id}" and claims["trust_id"] == str(OAKRIDGE)
    me = await seeded.gateway.get(
        "/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["id"] == str(JESS.id) and me.json()["session_id"] == claims["sid"]
    refreshed = await seeded.gateway.post(
        "/auth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": APP,
        },
    )
    assert refreshed.status_code == 200, refreshed.text

    # The code a second time: refused, and the session it started is revoked.
    again = await exchange(seeded, got["code"], verifier)
    assert "already used" in assert_problem(again, 401)["detail"]
    async with seeded.session("gateway") as db:
        row = (
            await db.execute(
                text("SELECT method, revoked_reason FROM sign_in_sessions WHERE id = :id"),
                {"id": claims["sid"]},
            )
        ).one()
    assert row.method == "sso" and row.revoked_reason == "reuse"


async def test_a_verified_email_of_the_trust_signs_in_an_unverified_one_does_not(
    seeded: Stack, idp: OidcProvider
) -> None:
    await configure(seeded, idp)
    got, verifier = await sign_in(
        seeded,
        idp,
        {"sub": "someone-new", "email": SAM.email.upper(), "email_verified": True},  # type: ignore[union-attr]
    )
    tokens = await exchange(seeded, got["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    claims = jwt.decode(tokens.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"person:{SAM.id}"

    refused, _ = await sign_in(
        seeded, idp, {"sub": "someone-new", "email": SAM.email, "email_verified": False}
    )
    assert refused["error"] == "access_denied" and "code" not in refused
    assert "No person of this trust" in refused["error_description"]


async def refused(stack: Stack, idp: OidcProvider, identity: dict[str, Any], **tamper: Any) -> str:
    got, _ = await sign_in(stack, idp, identity, tamper=tamper)
    assert got["error"] == "access_denied" and "code" not in got, got
    return got["error_description"]


async def test_every_bad_answer_signs_no_one_in(seeded: Stack, idp: OidcProvider) -> None:
    await configure(seeded, idp)
    await set_external_id(seeded, JESS.id, "idp-user-jess")
    jess = {"sub": "idp-user-jess"}
    assert "audience" in await refused(seeded, idp, jess, aud="another-client")
    assert "nonce" in await refused(seeded, idp, jess, nonce="not-the-nonce")
    now = int(time.time())
    assert "expired" in await refused(seeded, idp, jess, iat=now - 4000, exp=now - 3600)
    assert "issuer" in await refused(seeded, idp, jess, iss="http://127.0.0.1:1/other")
    forger = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
    assert "signature" in await refused(seeded, idp, jess, _signing_key=forger)
    assert "No person" in await refused(seeded, idp, {"sub": "nobody-we-know"})
    # A person of another trust, by verified email or by external id, never signs in here,
    # and the answer is the same as for an unknown person.
    rita = BY_NAME["Rita Olsen"]
    assert rita.trust_id == RIVERSIDE
    by_email = await refused(seeded, idp, {"sub": "x", "email": rita.email, "email_verified": True})
    assert by_email == "No person of this trust matches this identity."
    async with seeded.session("gateway") as db:
        await db.execute(
            text("UPDATE people SET external_id = 'idp-user-victor' WHERE id = :id"),
            {"id": BY_NAME["Victor Lane"].id},
        )
        await db.commit()
    assert "No person" in await refused(seeded, idp, {"sub": "idp-user-victor"})
    # A deactivated person no longer signs in.
    async with seeded.session("gateway") as db:
        await db.execute(text("UPDATE people SET active = false WHERE id = :id"), {"id": JESS.id})
        await db.commit()
    assert "No person" in await refused(seeded, idp, jess)
    # None of these left a code or a session behind.
    async with seeded.session("gateway") as db:
        codes = (
            await db.execute(text("SELECT count(*) FROM sso_logins WHERE code_hash IS NOT NULL"))
        ).scalar()
        sessions = (await db.execute(text("SELECT count(*) FROM sign_in_sessions"))).scalar()
    assert (codes, sessions) == (0, 0)


async def test_bad_app_requests_are_answered_not_redirected(
    seeded: Stack, idp: OidcProvider
) -> None:
    await configure(seeded, idp)
    verifier = secrets.token_urlsafe(48)
    base = {
        "trust_id": str(OAKRIDGE),
        "client_id": APP,
        "redirect_uri": REDIRECT,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }

    async def start(**change: str) -> httpx.Response:
        return await seeded.gateway.get("/auth/sso/authorize", params={**base, **change})

    assert_problem(await start(client_id="evil-app"), 401)
    evil = assert_problem(await start(redirect_uri="https://evil.example/steal"), 422)
    assert [e["loc"] for e in evil["errors"]] == ["query.redirect_uri"]
    assert_problem(await start(code_challenge_method="plain"), 422)
    assert_problem(await start(code_challenge="short"), 422)
    assert_problem(await start(trust_id=str(RIVERSIDE)), 404)
    # The provider's answer with a state the gateway never issued, or a second time.
    assert_problem(await seeded.gateway.get("/auth/sso/callback?state=made-up&code=x"), 400)
    started = await start(state="s")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    denied = await seeded.gateway.get(f"/auth/sso/callback?state={state}&error=access_denied")
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]
    assert_problem(await seeded.gateway.get(f"/auth/sso/callback?state={state}&code=late"), 400)
    # A code the gateway never issued.
    assert_problem(await exchange(seeded, "never-issued", verifier), 401)
    assert idp.token_requests == 0
