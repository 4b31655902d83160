"""Token verification, rule by rule: claims to Principal, the algorithm allow-list, signing
keys from the JWKS (cached, refreshed on rotation, not hammered by made-up kids), expiry and
required claims, an unreachable JWKS as 503, and the bearer dependencies.

Real Ed25519 / ECDSA keys; the JWKS is served by a small in-process ASGI app (the gateway's
role) over ``httpx.ASGITransport`` (:mod:`auth_helpers`); remembered tokens are in
:mod:`test_auth_memory`."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import Depends, FastAPI, Request
from starlette.responses import JSONResponse

from cpd_common.auth import (
    ALLOWED_ALGORITHMS,
    JwksCache,
    Principal,
    PrincipalDep,
    TokenVerifier,
    principal_from_claims,
    principal_from_request,
    require_roles,
)
from cpd_common.errors import ProblemError, ServiceUnavailable, Unauthorized

from .auth_helpers import (
    AUDIENCE,
    ISSUER,
    JWKS_URL,
    OTHER_SCHOOL,
    SCHOOL,
    TRUST,
    Gateway,
    refused,
    verifier_for,
)
from .auth_helpers import gateway as gateway

# ---- claims ------------------------------------------------------------------------------


def test_a_persons_claims_become_a_principal() -> None:
    person = uuid.uuid4()
    p = principal_from_claims(
        {
            "sub": f"person:{person}",
            "trust_id": str(TRUST),
            "school_ids": [str(SCHOOL), str(OTHER_SCHOOL)],
            "roles": ["staff", "school_leader"],
            "scope": "audits:read  audits:write",
        }
    )
    assert p.sub == f"person:{person}" and p.person_id == person and p.client_id is None
    assert p.trust_id == TRUST
    assert p.school_ids == frozenset({SCHOOL, OTHER_SCHOOL})
    assert p.roles == frozenset({"staff", "school_leader"})
    assert p.scopes == frozenset({"audits:read", "audits:write"})
    assert p.claims["roles"] == ["staff", "school_leader"]


def test_an_api_clients_claims_become_a_principal_without_a_person() -> None:
    p = principal_from_claims({"sub": "client:hr-sync", "trust_id": str(TRUST)})
    assert (p.client_id, p.person_id) == ("hr-sync", None)
    assert p.school_ids == frozenset() and p.roles == frozenset() and p.scopes == frozenset()


@pytest.mark.parametrize(
    "claims",
    [
        {"trust_id": str(TRUST)},  # no subject
        {"sub": "person:x"},  # no trust
        {"sub": "person:not-a-uuid", "trust_id": str(TRUST)},
        {"sub": "person:" + str(uuid.uuid4()), "trust_id": "not-a-uuid"},
        {"sub": "client:c", "trust_id": str(TRUST), "school_ids": ["nope"]},
        {"sub": "client:c", "trust_id": str(TRUST), "school_ids": 7},
    ],
)
def test_incomplete_claims_are_401(claims: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized) as caught:
        principal_from_claims(claims)
    assert caught.value.status == 401 and "incomplete" in caught.value.detail


def test_a_principal_cannot_be_changed_once_verified() -> None:
    p = principal_from_claims({"sub": "client:c", "trust_id": str(TRUST), "roles": ["staff"]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.roles = frozenset({"trust_admin"})  # type: ignore[misc]
    assert p.roles == frozenset({"staff"})


def test_roles_of_a_principal() -> None:
    admin = Principal(sub="a", trust_id=TRUST, roles=frozenset({"trust_admin"}))
    staff = Principal(
        sub="l", trust_id=TRUST, school_ids=frozenset({SCHOOL}), roles=frozenset({"staff"})
    )
    assert admin.is_trust_admin and not staff.is_trust_admin
    assert staff.has_any("governor", "staff") and not staff.has_any("governor")
    assert not staff.has_any()


# ---- the verifier ------------------------------------------------------------------------


async def test_a_valid_token_gives_its_principal(gateway: Gateway) -> None:
    verifier = verifier_for(gateway)
    person = uuid.uuid4()
    p = await verifier.verify(gateway.token("main", sub=f"person:{person}", roles=["governor"]))
    assert (p.person_id, p.trust_id, p.roles) == (person, TRUST, frozenset({"governor"}))


def test_only_allow_listed_algorithms_are_ever_accepted() -> None:
    cache = JwksCache(JWKS_URL)
    assert TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE).algorithms == ["EdDSA"]
    mixed = TokenVerifier(
        cache, issuer=ISSUER, audience=AUDIENCE, algorithms=["HS256", "none", "ES256", "EdDSA"]
    )
    assert mixed.algorithms == ["ES256", "EdDSA"]
    assert "none" not in ALLOWED_ALGORITHMS and not any(
        a.startswith("HS") for a in ALLOWED_ALGORITHMS
    )


async def test_hmac_and_unsigned_tokens_are_refused(gateway: Gateway) -> None:
    verifier = verifier_for(gateway, algorithms=["EdDSA", "HS256"])
    hs = jwt.encode(gateway.claims(), "shared-secret", algorithm="HS256", headers={"kid": "main"})
    unsigned = jwt.encode(gateway.claims(), None, algorithm="none", headers={"kid": "main"})
    for token in (hs, unsigned):
        error = await refused(verifier, token)
        assert error.status == 401 and "algorithm is not accepted" in error.detail
    assert gateway.fetches == 0, "a refused algorithm never costs a JWKS fetch"


async def test_a_token_of_another_accepted_algorithm_is_refused_when_not_configured(
    gateway: Gateway,
) -> None:
    kid = gateway.add_es256()
    error = await refused(verifier_for(gateway), gateway.token(kid, alg="ES256"))
    assert "algorithm is not accepted" in error.detail
    accepted = await verifier_for(gateway, algorithms=["ES256"]).verify(
        gateway.token(kid, alg="ES256")
    )
    assert accepted.trust_id == TRUST


async def test_malformed_tokens_and_tokens_without_a_key_id_are_401(gateway: Gateway) -> None:
    verifier = verifier_for(gateway)
    assert "malformed" in (await refused(verifier, "not.a.jwt")).detail
    no_kid = jwt.encode(gateway.claims(), gateway.keys["main"], algorithm="EdDSA")
    assert "names no signing key" in (await refused(verifier, no_kid)).detail


async def test_a_key_nobody_published_is_401(gateway: Gateway) -> None:
    kid = gateway.add_ed25519(publish=False)
    error = await refused(verifier_for(gateway), gateway.token(kid))
    assert error.status == 401 and "unknown key" in error.detail


async def test_a_key_used_with_another_algorithm_than_its_own_is_401(gateway: Gateway) -> None:
    """An ES256 key published as such cannot vouch for a token that claims EdDSA."""
    es_kid = gateway.add_es256()
    verifier = verifier_for(gateway, algorithms=["EdDSA", "ES256"])
    forged = jwt.encode(
        gateway.claims(), gateway.keys["main"], algorithm="EdDSA", headers={"kid": es_kid}
    )
    assert "unknown key" in (await refused(verifier, forged)).detail
    # And the other way round: the EdDSA key cannot vouch for an ES256 token.
    es_key = gateway.keys[es_kid]
    forged = jwt.encode(gateway.claims(), es_key, algorithm="ES256", headers={"kid": "main"})
    assert "unknown key" in (await refused(verifier, forged)).detail


async def test_expired_tokens_are_401_within_a_few_seconds_of_leeway(gateway: Gateway) -> None:
    verifier = verifier_for(gateway)
    now = int(time.time())
    error = await refused(verifier, gateway.token("main", exp=now - 60, iat=now - 1000))
    assert error.status == 401 and "expired" in error.detail
    # Clocks drift: a token that expired a moment ago still passes.
    p = await verifier.verify(gateway.token("main", exp=now - 2, iat=now - 900))
    assert p.trust_id == TRUST


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub", "jti"])
async def test_tokens_missing_a_required_claim_are_401(gateway: Gateway, missing: str) -> None:
    error = await refused(verifier_for(gateway), gateway.token("main", **{missing: None}))
    assert error.status == 401 and "not valid" in error.detail


async def test_tokens_for_another_audience_or_issuer_are_401(gateway: Gateway) -> None:
    verifier = verifier_for(gateway)
    for claims in ({"aud": "another-api"}, {"iss": "https://elsewhere.test"}):
        assert "not valid" in (await refused(verifier, gateway.token("main", **claims))).detail


async def test_a_bad_signature_is_401(gateway: Gateway) -> None:
    impostor = ed25519.Ed25519PrivateKey.generate()  # signs as "main" without its key
    forged = jwt.encode(gateway.claims(), impostor, algorithm="EdDSA", headers={"kid": "main"})
    assert "not valid" in (await refused(verifier_for(gateway), forged)).detail


@pytest.mark.parametrize("mode", ["down", "error", "garbage"])
async def test_an_unreachable_jwks_is_503_with_retry_after(gateway: Gateway, mode: str) -> None:
    gateway.mode = mode
    error = await refused(verifier_for(gateway), gateway.token("main"))
    assert isinstance(error, ServiceUnavailable) and error.status == 503
    assert error.headers == {"Retry-After": "2"}


# ---- the JWKS cache ----------------------------------------------------------------------


async def test_only_usable_keys_with_an_id_and_an_allowed_algorithm_are_kept(
    gateway: Gateway,
) -> None:
    # The unusable ones first: each is skipped and the keys after it still count.
    gateway.published[:0] = [
        {"kid": "broken", "kty": "OKP", "crv": "Ed25519"},  # no key material
        {**gateway.published[0], "kid": None},  # no id
        {**gateway.published[0], "kid": "hmac", "kty": "oct", "k": "c2VjcmV0", "alg": "HS256"},
    ]
    cache = JwksCache(JWKS_URL, client=gateway.client())
    assert await cache.get("main") is not None
    assert await cache.get("hmac") is None
    assert await cache.get("broken") is None
    assert set(cache._keys) == {"main"}


async def test_keys_are_cached_for_their_ttl_then_fetched_again(gateway: Gateway) -> None:
    cache = JwksCache(JWKS_URL, client=gateway.client(), ttl=0.3)
    for _ in range(3):
        assert await cache.get("main") is not None
    assert gateway.fetches == 1, "cached within the ttl"
    await asyncio.sleep(0.35)
    assert await cache.get("main") is not None
    assert gateway.fetches == 2, "fetched again once the ttl passed"


async def test_a_failed_refresh_keeps_serving_the_keys_it_has(gateway: Gateway) -> None:
    cache = JwksCache(JWKS_URL, client=gateway.client(), ttl=0.1)
    assert await cache.get("main") is not None
    await asyncio.sleep(0.15)
    gateway.mode = "down"
    assert await cache.get("main") is not None, "a stale key beats no key while the JWKS is down"
    assert gateway.fetches == 2


async def test_made_up_key_ids_cost_one_fetch_per_refresh_interval(gateway: Gateway) -> None:
    cache = JwksCache(JWKS_URL, client=gateway.client(), min_refresh_interval=0.3)
    assert await cache.get("main") is not None
    assert await cache.get("made-up-1") is None
    assert gateway.fetches == 2, "an unknown kid is looked up at once (it may be new)"
    for n in range(5):
        assert await cache.get(f"made-up-{n + 2}") is None
    assert gateway.fetches == 2, "then not again within the interval"
    # A real rotation right after a miss waits for the interval, then works.
    new_kid = gateway.add_ed25519()
    await asyncio.sleep(0.35)
    assert await cache.get(new_kid) is not None
    assert gateway.fetches == 3


async def test_a_rotated_key_is_fetched_at_once_when_the_last_lookup_found_its_key(
    gateway: Gateway,
) -> None:
    cache = JwksCache(JWKS_URL, client=gateway.client(), min_refresh_interval=60)
    assert await cache.get("main") is not None
    new_kid = gateway.add_ed25519()
    assert await cache.get(new_kid) is not None
    assert gateway.fetches == 2


async def test_the_cache_closes_only_the_client_it_opened(gateway: Gateway) -> None:
    given = gateway.client()
    await JwksCache(JWKS_URL, client=given).aclose()
    assert not given.is_closed
    own = JwksCache(JWKS_URL)
    own._client = httpx.AsyncClient()
    await own.aclose()
    assert own._client.is_closed


# ---- the bearer dependencies -------------------------------------------------------------


def app_for(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    app.state.verifier = verifier

    @app.get("/me")
    async def me(principal: PrincipalDep) -> dict[str, Any]:
        return {"trust_id": str(principal.trust_id)}

    @app.get("/admin", dependencies=[Depends(require_roles("trust_admin"))])
    async def admin() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/optional")
    async def optional(request: Request) -> dict[str, Any]:
        principal = await principal_from_request(request)
        again = await principal_from_request(request) if principal else None
        return {"principal": principal is not None, "same": again == principal}

    @app.exception_handler(ProblemError)
    async def problem(request: Request, exc: ProblemError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    return app


async def test_bearer_dependencies(gateway: Gateway) -> None:
    app = app_for(verifier_for(gateway))
    token = gateway.token("main")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc.test"
    ) as client:
        ok = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json() == {"trust_id": str(TRUST)}
        for headers in ({}, {"Authorization": f"Basic {token}"}):
            resp = await client.get("/me", headers=headers)
            assert resp.status_code == 401 and "Send an access token" in resp.json()["detail"]
        staff = await client.get("/admin", headers={"Authorization": f"Bearer {token}"})
        assert staff.status_code == 403
        admin_token = gateway.token("main", roles=["trust_admin"])
        admin = await client.get("/admin", headers={"Authorization": f"Bearer {admin_token}"})
        assert admin.status_code == 200
        for header, expected in (
            (None, False),
            ("Bearer", False),
            ("Bearer ", False),
            (f"Token {token}", False),
            (f"bearer {token}", True),
            (f"Bearer  {token} ", True),
        ):
            headers = {"Authorization": header} if header is not None else {}
            resp = await client.get("/optional", headers=headers)
            assert resp.status_code == 200, (header, resp.text)
            assert resp.json() == {"principal": expected, "same": True}, header
        bad = await client.get("/optional", headers={"Authorization": "Bearer not.a.jwt"})
        assert bad.status_code == 401, "a bad token is refused, not treated as no token"
