"""A small signing gateway for the token tests: Ed25519 / ECDSA keys, a JWKS served by an
in-process ASGI app over ``httpx.ASGITransport``, tokens with the platform's claims, and the
``gateway`` fixture (imported by the test modules that use it)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cpd_common.auth import JwksCache, TokenVerifier
from cpd_common.errors import ProblemError

ISSUER = "https://issuer.auth.test"
AUDIENCE = "auth-api"
JWKS_URL = "http://gateway.test/.well-known/jwks.json"
TRUST = uuid.UUID("00000000-0000-7000-8000-0000000000aa")
SCHOOL = uuid.UUID("00000000-0000-7000-8000-0000000000bb")
OTHER_SCHOOL = uuid.UUID("00000000-0000-7000-8000-0000000000cc")


class Gateway:
    """Signing keys and their JWKS; ``mode`` makes the JWKS endpoint misbehave."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.published: list[dict[str, Any]] = []
        self.fetches = 0
        self.mode = "ok"

    def add_ed25519(self, kid: str | None = None, *, publish: bool = True) -> str:
        kid = kid or uuid.uuid4().hex
        key = ed25519.Ed25519PrivateKey.generate()
        self.keys[kid] = key
        if publish:
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
            self.published.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
        return kid

    def add_es256(self, kid: str | None = None) -> str:
        kid = kid or uuid.uuid4().hex
        key = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = key
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        self.published.append({**jwk, "kid": kid, "alg": "ES256", "use": "sig"})
        return kid

    def app(self) -> Starlette:
        async def serve(request: Any) -> Response:
            self.fetches += 1
            if self.mode == "down":
                raise httpx.ConnectError("gateway unreachable")
            if self.mode == "error":
                return PlainTextResponse("boom", status_code=500)
            if self.mode == "garbage":
                return PlainTextResponse("not json")
            return JSONResponse({"keys": self.published})

        return Starlette(routes=[Route("/.well-known/jwks.json", serve)])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app()))

    def claims(self, **claims: Any) -> dict[str, Any]:
        now = int(time.time())
        out = {
            "sub": f"person:{uuid.uuid4()}",
            "trust_id": str(TRUST),
            "school_ids": [str(SCHOOL)],
            "roles": ["staff"],
            "scope": "",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return {k: v for k, v in out.items() if v is not None}

    def token(self, kid: str, *, alg: str = "EdDSA", **claims: Any) -> str:
        return jwt.encode(
            self.claims(**claims), self.keys[kid], algorithm=alg, headers={"kid": kid}
        )


@pytest.fixture
async def gateway() -> Any:
    gw = Gateway()
    gw.add_ed25519("main")
    yield gw


def verifier_for(gateway: Gateway, **kw: Any) -> TokenVerifier:
    cache = JwksCache(JWKS_URL, client=gateway.client(), min_refresh_interval=kw.pop("mri", 5.0))
    return TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE, **kw)


async def refused(verifier: TokenVerifier, token: str) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        await verifier.verify(token)
    return caught.value
