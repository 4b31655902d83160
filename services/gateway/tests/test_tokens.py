"""Access tokens: the OAuth2 token endpoint, the JWKS, key rotation, and every service
refusing forged or out-of-date tokens (zero trust behind the gateway).

The demo trust is seeded once per session into a template database that every test copies,
so a test pays for a database copy instead of hashing the demo passwords again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import text

from cpd_common.testing.api import assert_problem
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, OAKRIDGE, PEOPLE, RIVERSIDE
from cpd_gateway import rotate_key
from cpd_gateway.identity.service import BAD_CREDENTIALS
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
LEADER = DEMO_CREDENTIALS["school leader (Northfield)"]
TEACHER = DEMO_CREDENTIALS["teacher (Northfield)"]
QA_CLIENT = DEMO_CREDENTIALS["QA API client"]
PEOPLE_BY_EMAIL = {p.email: p for p in PEOPLE if p.email}
DOMAIN_SERVICES = ("audit", "lessonstudy", "evaluation")
# A routed path every domain service serves (trust admins only): proves a token got through.
ROUTED = "/v1/admin/audit/dead-letters"

# ---- helpers ---------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def password_grant(stack: Stack, username: str, password: str) -> httpx.Response:
    return await stack.gateway.post(
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


async def jwks(stack: Stack) -> dict[str, dict[str, Any]]:
    resp = await stack.gateway.get("/.well-known/jwks.json")
    assert resp.status_code == 200, resp.text
    return {k["kid"]: k for k in resp.json()["keys"]}


async def verify_with_jwks(stack: Stack, token: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    keys = await jwks(stack)
    assert header["kid"] in keys, "the token's kid is not published in the JWKS"
    settings = stack.services["gateway"].settings
    return jwt.decode(
        token,
        key=jwt.PyJWK(keys[header["kid"]]).key,
        algorithms=["EdDSA"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(claims).encode()),
            b64url(signature),
        ]
    )


def hs256_jwt(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 by hand: PyJWT (rightly) refuses to use a public key as an HMAC secret."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    return f"{header}.{payload}.{b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())}"


async def status_everywhere(stack: Stack, token: str) -> dict[str, int]:
    """What a token gets from the gateway's own API, a routed path, and each service directly."""
    out = {
        "gateway /v1/schools": (
            await stack.gateway.get("/v1/schools", headers=bearer(token))
        ).status_code,
        f"gateway {ROUTED}": (await stack.gateway.get(ROUTED, headers=bearer(token))).status_code,
    }
    for name in DOMAIN_SERVICES:
        resp = await stack.services[name].client.get(
            f"/v1/admin/{name}/dead-letters", headers=bearer(token)
        )
        out[f"{name} direct"] = resp.status_code
    return out


# ---- password grant --------------------------------------------------------------------------


async def test_password_grant_issues_eddsa_jwt_with_the_design_claims(seeded: Stack) -> None:
    settings = seeded.services["gateway"].settings
    logins = [(u, p) for u, p in DEMO_CREDENTIALS.values() if "@" in u]
    assert len(logins) >= 4
    jtis = set()
    for username, password in logins:
        before = int(time.time())
        resp = await password_grant(seeded, username, password)
        assert resp.status_code == 200, (username, resp.text)
        assert resp.headers["cache-control"] == "no-store"
        body = resp.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        token = body["access_token"]

        header = jwt.get_unverified_header(token)
        assert header["alg"] == "EdDSA"
        assert header["kid"] in await jwks(seeded)
        claims = await verify_with_jwks(seeded, token)
        for name in ("sub", "trust_id", "school_ids", "roles", "scope", "iss", "aud"):
            assert name in claims, name
        for name in ("exp", "iat", "jti"):
            assert claims[name], name
        person = PEOPLE_BY_EMAIL[username]
        assert claims["sub"] == f"person:{person.id}"
        assert claims["trust_id"] == str(person.trust_id)
        assert set(claims["school_ids"]) == {str(s) for s in person.school_ids}
        assert set(claims["roles"]) == set(person.roles)
        assert claims["scope"] == ""
        assert claims["iss"] == settings.jwt_issuer
        assert claims["aud"] == settings.jwt_audience
        assert claims["exp"] - claims["iat"] == 900
        assert before - 5 <= claims["iat"] <= int(time.time()) + 5
        jtis.add(claims["jti"])

        # The token works: everyone may read their own directory entry.
        own = await seeded.gateway.get(f"/v1/people/{person.id}", headers=bearer(token))
        assert own.status_code == 200, own.text
    assert len(jtis) == len(logins), "every token needs its own jti"

    # The JWKS holds public EdDSA keys only.
    published = await seeded.gateway.get("/.well-known/jwks.json")
    assert published.status_code == 200
    assert published.json()["keys"]
    for key in published.json()["keys"]:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519"
        assert key["alg"] == "EdDSA" and key["use"] == "sig" and key["kid"]
        assert "d" not in key, "a private key component must never be published"


async def test_wrong_credentials_get_the_same_401_and_bad_grants_422(seeded: Stack) -> None:
    wrong = await password_grant(seeded, ADMIN[0], "not-the-password-2026")
    unknown = await password_grant(seeded, "nobody@oakridge.example", ADMIN[1])
    bodies = [assert_problem(r, 401) for r in (wrong, unknown)]
    assert bodies[0]["detail"] == bodies[1]["detail"] == BAD_CREDENTIALS
    assert bodies[0]["title"] == bodies[1]["title"]
    assert bodies[0]["type"] == bodies[1]["type"]
    for r in (wrong, unknown):
        assert r.headers["www-authenticate"].lower().startswith("bearer")
        assert "access_token" not in r.text

    # Emails are matched case-insensitively; a missing password is a validation error.
    ok = await password_grant(seeded, ADMIN[0].upper(), ADMIN[1])
    assert ok.status_code == 200, ok.text
    missing = await seeded.gateway.post(
        "/auth/token", data={"grant_type": "password", "username": ADMIN[0]}
    )
    body = assert_problem(missing, 422)
    assert {"loc": "body.password", "msg": "field required"} in body["errors"]

    # Grant types the gateway does not offer are refused.
    resp = await seeded.gateway.post(
        "/auth/token",
        data={"grant_type": "implicit", "code": "abc", "username": ADMIN[0]},
    )
    body = assert_problem(resp, 422)
    assert [e["loc"] for e in body["errors"]] == ["body.grant_type"]
    missing = await seeded.gateway.post("/auth/token", data={"username": ADMIN[0]})
    body = assert_problem(missing, 422)
    assert any(e["loc"] == "body.grant_type" for e in body["errors"])


# ---- client credentials ----------------------------------------------------------------------


async def test_client_credentials_grant_by_form_and_http_basic(seeded: Stack) -> None:
    client_id, secret = QA_CLIENT
    form = await seeded.gateway.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    basic = await seeded.gateway.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers={
            "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        },
    )
    narrowed = await seeded.gateway.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "metrics:read",
        },
    )
    for resp in (form, basic, narrowed):
        assert resp.status_code == 200, resp.text
        assert resp.json()["scope"] == "metrics:read"
        claims = await verify_with_jwks(seeded, resp.json()["access_token"])
        assert claims["sub"] == f"client:{client_id}"
        assert claims["scope"] == "metrics:read"
        assert claims["roles"] == ["qa_reader"]
        assert claims["school_ids"] == []
        assert claims["trust_id"] == str(OAKRIDGE)
        assert claims["exp"] - claims["iat"] == 900

    # A scope the client was not granted, a wrong secret, an unknown client: 401.
    ungranted = await seeded.gateway.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "metrics:read scim",
        },
    )
    assert "scim" in assert_problem(ungranted, 401)["detail"]
    wrong = await seeded.gateway.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": "x" * 20,
        },
    )
    unknown = await seeded.gateway.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": "no-such", "client_secret": secret},
    )
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]
    no_secret = await seeded.gateway.post(
        "/auth/token", data={"grant_type": "client_credentials", "client_id": client_id}
    )
    assert_problem(no_secret, 401)
    bad_basic = await seeded.gateway.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers={
            "Authorization": "Basic " + base64.b64encode(f"{client_id}:wrong".encode()).decode()
        },
    )
    assert_problem(bad_basic, 401)


async def test_revoked_client_gets_no_token(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    clients = await seeded.gateway.get("/v1/clients", headers=admin)
    assert clients.status_code == 200, clients.text
    qa = next(c for c in clients.json()["items"] if c["client_id"] == QA_CLIENT[0])
    before = await seeded.client_token(*QA_CLIENT)
    assert before

    etag = (await seeded.gateway.get(f"/v1/clients/{qa['id']}", headers=admin)).headers["etag"]
    revoked = await seeded.gateway.delete(
        f"/v1/clients/{qa['id']}", headers={**admin, "If-Match": etag}
    )
    assert revoked.status_code == 204, revoked.text
    after = await seeded.gateway.get(f"/v1/clients/{qa['id']}", headers=admin)
    assert after.json()["active"] is False

    for kwargs in (
        {
            "data": {
                "grant_type": "client_credentials",
                "client_id": QA_CLIENT[0],
                "client_secret": QA_CLIENT[1],
            }
        },
        {
            "data": {"grant_type": "client_credentials"},
            "headers": {
                "Authorization": "Basic "
                + base64.b64encode(f"{QA_CLIENT[0]}:{QA_CLIENT[1]}".encode()).decode()
            },
        },
    ):
        resp = await seeded.gateway.post("/auth/token", **kwargs)
        assert assert_problem(resp, 401)["detail"] == BAD_CREDENTIALS


# ---- key rotation ----------------------------------------------------------------------------


async def rotate_as_operator(platform: Stack, pending_seconds: int = 0) -> dict[str, str]:
    """What an operator runs (``python -m cpd_gateway.rotate_key``), with the gateway's settings
    (by default with no pending period, so the new key signs at once)."""
    gateway = platform.services["gateway"]
    settings = gateway.settings.model_copy(update={"signing_key_pending_seconds": pending_seconds})
    rotated = await rotate_key.rotate(settings)
    gateway.app.state.keyring.invalidate()
    return rotated


async def test_rotation_keeps_at_most_one_pending_key(platform: Stack) -> None:
    """A rotated-in key is published before it signs; rotating again meanwhile adds nothing."""
    old_kid = jwt.get_unverified_header(await platform.token(*ADMIN))["kid"]
    first = await rotate_as_operator(platform, pending_seconds=3600)
    again = await rotate_as_operator(platform, pending_seconds=3600)
    assert again["kid"] == first["kid"], "a second pending key was made"
    assert {old_kid, first["kid"]} <= set(await jwks(platform)), "pending key not published"
    async with platform.session("gateway") as session:
        pending = await session.scalar(
            text("SELECT count(*) FROM signing_keys WHERE created_at > now()")
        )
    assert pending == 1
    # While it is pending the old key still signs.
    assert jwt.get_unverified_header(await platform.token(*ADMIN))["kid"] == old_kid


async def test_no_trust_role_can_rotate_the_platform_signing_key(platform: Stack) -> None:
    """The key is the platform's, shared by every trust: rotation is an operator action."""
    kids_before = set(await jwks(platform))
    for creds in (TEACHER, LEADER, ADMIN):
        resp = await platform.gateway.post(
            "/v1/admin/keys/rotate", headers=await platform.auth(*creds)
        )
        assert resp.status_code == 404, (creds, resp.status_code)
    assert set(await jwks(platform)) == kids_before, "a trust role rotated the signing key"
    paths = (await platform.gateway.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if "keys" in p and "jwks" not in p]


async def test_key_rotation_keeps_old_tokens_valid_and_publishes_both_keys(platform: Stack) -> None:
    old_token = await platform.token(*ADMIN)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    # Every service has fetched (and cached) the JWKS before the rotation.
    assert set((await status_everywhere(platform, old_token)).values()) == {200}

    rotated = await rotate_as_operator(platform)
    new_kid = rotated["kid"]
    assert new_kid != old_kid
    assert rotated["algorithm"] == "EdDSA"
    assert {old_kid, new_kid} <= set(await jwks(platform))

    # The old token still works everywhere; new tokens are signed with the new key and are
    # accepted everywhere at once (services refresh their JWKS on an unknown kid).
    statuses = await status_everywhere(platform, old_token)
    assert statuses == dict.fromkeys(statuses, 200), statuses
    new_token = await platform.token(*ADMIN)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    statuses = await status_everywhere(platform, new_token)
    assert statuses == dict.fromkeys(statuses, 200), statuses

    # A second rotation: all three keys are published while tokens they signed may live.
    again = await rotate_as_operator(platform)
    assert {old_kid, new_kid, again["kid"]} <= set(await jwks(platform))
    assert set((await status_everywhere(platform, old_token)).values()) == {200}

    # Once a retired key's tokens have all expired it leaves the JWKS, and the gateway no
    # longer accepts what it signed.
    async with platform.session("gateway") as session:
        await session.execute(
            text(
                "UPDATE signing_keys SET publish_until = now() - interval '1 second' WHERE kid = :k"
            ),
            {"k": old_kid},
        )
        await session.commit()
    platform.services["gateway"].app.state.keyring.invalidate()
    assert old_kid not in await jwks(platform)
    assert_problem(await platform.gateway.get("/v1/schools", headers=bearer(old_token)), 401)


# ---- forged and out-of-date tokens -----------------------------------------------------------


async def _valid_claims(stack: Stack) -> dict[str, Any]:
    settings = stack.services["gateway"].settings
    now = int(time.time())
    return {
        "sub": f"person:{uuid.uuid4()}",
        "trust_id": str(OAKRIDGE),
        "school_ids": [str(NORTHFIELD)],
        "roles": ["trust_admin", "staff"],
        "scope": "",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
    }


async def test_every_service_rejects_forged_and_invalid_tokens(stack: Stack) -> None:
    keyring = stack.services["gateway"].app.state.keyring
    kid, alg, private = await keyring.signing_key()
    assert alg == "EdDSA"
    public_jwk = (await jwks(stack))[kid]
    public = jwt.PyJWK(public_jwk).key
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    foreign = ed25519.Ed25519PrivateKey.generate()
    foreign_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = await _valid_claims(stack)
    now = int(time.time())

    def signed(payload: dict[str, Any], key: Any = private, **headers: Any) -> str:
        algorithm = headers.pop("alg", "EdDSA")
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid, **headers})

    genuine = signed(claims)
    # Control: the same claims signed by the gateway's key pass everywhere.
    statuses = await status_everywhere(stack, genuine)
    assert statuses == dict.fromkeys(statuses, 200), statuses

    head, payload, sig = genuine.split(".")
    tampered_claims = {**claims, "trust_id": str(RIVERSIDE)}
    forgeries = {
        "alg none": unsigned_jwt({"alg": "none", "typ": "JWT", "kid": kid}, claims),
        "alg None with the real signature": unsigned_jwt(
            {"alg": "None", "kid": kid}, claims, base64.urlsafe_b64decode(sig + "==")
        ),
        "HS256 with the PEM public key": hs256_jwt(claims, public_pem, kid),
        "HS256 with the raw public key": hs256_jwt(claims, public_raw, kid),
        "HS256 with the JWK text": hs256_jwt(claims, json.dumps(public_jwk).encode(), kid),
        "foreign key, known kid": signed(claims, foreign),
        "foreign RSA key, known kid": signed(claims, foreign_rsa, alg="RS256"),
        "foreign key, unknown kid": jwt.encode(
            claims, foreign, algorithm="EdDSA", headers={"kid": uuid.uuid4().hex}
        ),
        "no kid": jwt.encode(claims, private, algorithm="EdDSA"),
        "tampered payload": f"{head}.{b64url(json.dumps(tampered_claims).encode())}.{sig}",
        "tampered signature": f"{head}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}",
        "expired": signed({**claims, "iat": now - 1900, "nbf": now - 1900, "exp": now - 1000}),
        "not yet valid": signed({**claims, "nbf": now + 600, "exp": now + 1500}),
        "wrong audience": signed({**claims, "aud": "another-api"}),
        "wrong issuer": signed({**claims, "iss": "https://evil.example"}),
        "no jti": signed({k: v for k, v in claims.items() if k != "jti"}),
        "no trust_id": signed({k: v for k, v in claims.items() if k != "trust_id"}),
        "garbage": "not.a.jwt",
    }
    failures = []
    for name, token in forgeries.items():
        for where, status in (await status_everywhere(stack, token)).items():
            if status != 401:
                failures.append(f"{name} @ {where}: {status}")
    assert not failures, failures

    # And each refusal is a proper problem with a Bearer challenge.
    for name in ("alg none", "HS256 with the PEM public key", "expired", "wrong audience"):
        for resp in (
            await stack.gateway.get(ROUTED, headers=bearer(forgeries[name])),
            await stack.services["audit"].client.get(ROUTED, headers=bearer(forgeries[name])),
        ):
            assert_problem(resp, 401)
            assert resp.headers["www-authenticate"].lower().startswith("bearer")
    # A scheme other than Bearer is not a token at all.
    basic = {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()}
    assert_problem(await stack.gateway.get(ROUTED, headers=basic), 401)
    assert_problem(await stack.services["audit"].client.get(ROUTED, headers=basic), 401)
