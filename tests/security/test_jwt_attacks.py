"""Forged and broken access tokens (issue 12): every one answers 401 problem+json, on the
gateway and on every service called directly (zero trust behind the gateway, DESIGN.md §5).

The attacks: ``alg: none`` (in three spellings), HS256/HS384/HS512 keyed with the gateway's
public key material (PEM, raw key, the JWK as text), claims changed under a kept signature,
expired tokens, an unknown ``kid``, a foreign key that claims the right ``kid``, a foreign key
offered in the ``jwk``, ``jku``, ``x5u`` or ``x5c`` header, an algorithm the key is not for, a
wrong issuer or audience, and each required claim missing or malformed. A genuine token on the
same request answers 200 first, so each 401 is the token's doing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from cpd_demo.trust import PEOPLE_BY_KEY, RIVERSIDE
from cpd_local.stack import Stack

# One protected read per target; the services are called directly, the gateway both for its
# own routes and for a proxied one.
TARGETS = [
    ("gateway", "/v1/me"),
    ("gateway", "/v1/audits"),
    ("audit", "/v1/audits"),
    ("lessonstudy", "/v1/lesson-studies"),
    ("evaluation", "/v1/activities"),
]
REQUIRED = ("sub", "trust_id", "iss", "aud", "exp", "iat", "jti")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], sign: Any = None) -> str:
    """A JWT put together by hand (PyJWT refuses to make most of these)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64(signature)}"


def hmac_signer(key: bytes, digest: Any) -> Any:
    return lambda data: hmac.new(key, data, digest).digest()


class Forge:
    """Genuine claims and key material of the running gateway, to forge from."""

    def __init__(self, stack: Stack, jwk: dict[str, Any], claims: dict[str, Any]) -> None:
        self.stack = stack
        self.jwk = jwk
        self.kid = str(jwk["kid"])
        self.claims = claims

    @property
    def public_materials(self) -> list[bytes]:
        public = jwt.PyJWK(self.jwk).key
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return [pem, pem.strip(), raw, json.dumps(self.jwk).encode(), self.jwk["x"].encode()]

    async def genuine(self, **changes: Any) -> str:
        """A token the gateway signs itself, with ``changes`` to its claims (None drops one)."""
        gateway = self.stack.services["gateway"]
        settings = gateway.settings
        kid, algorithm, private = await gateway.app.state.keyring.signing_key()
        now = int(time.time())
        payload = {
            **self.claims,
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        for name, value in changes.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return jwt.encode(payload, private, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture(scope="module")
async def forge(world: Stack) -> Forge:
    jwks = (await world.gateway.get("/.well-known/jwks.json")).json()["keys"]
    assert jwks, "the gateway publishes no key"
    admin = PEOPLE_BY_KEY["admin"]
    claims = {
        "sub": f"person:{admin.id}",
        "trust_id": str(admin.trust_id),
        "school_ids": [str(s) for s in admin.school_ids],
        "roles": list(admin.roles),
        "scope": "",
    }
    return Forge(world, jwks[-1], claims)


def forged_tokens(forge: Forge, valid: str) -> dict[str, str]:
    """Every forgery, by name, built from a valid token and the published key."""
    now = int(time.time())
    head, body, sig = valid.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    out: dict[str, str] = {}
    for alg in ("none", "None", "NONE"):
        out[f"alg {alg}"] = compact({"alg": alg, "typ": "JWT", "kid": forge.kid}, claims)
        out[f"alg {alg}, signature kept"] = (
            compact({"alg": alg, "kid": forge.kid}, claims).rstrip(".") + "." + sig
        )
    out["no header alg"] = compact({"kid": forge.kid}, claims, lambda d: b"x")
    for alg, digest in (("HS256", hashlib.sha256), ("HS384", hashlib.sha384)):
        for i, material in enumerate(forge.public_materials):
            header = {"alg": alg, "typ": "JWT", "kid": forge.kid}
            out[f"{alg} keyed with public material {i}"] = compact(
                header, claims, hmac_signer(material, digest)
            )
    for i, material in enumerate(forge.public_materials):
        header = {"alg": "HS512", "kid": forge.kid}
        out[f"HS512 keyed with public material {i}"] = compact(
            header, claims, hmac_signer(material, hashlib.sha512)
        )
    # The signature kept, the claims changed: another trust, more roles, a longer life.
    for name, change in {
        "trust": {"trust_id": str(RIVERSIDE)},
        "roles": {"roles": ["trust_admin", "hr_integration", "qa_reader"]},
        "exp": {"exp": now + 86_400 * 365},
        "sub": {"sub": f"person:{PEOPLE_BY_KEY['r-admin'].id}"},
    }.items():
        tampered = b64(json.dumps({**claims, **change}).encode())
        out[f"tampered {name}, signature kept"] = f"{head}.{tampered}.{sig}"
    out["signature truncated"] = f"{head}.{body}.{sig[:-4]}"
    out["signature of another token"] = f"{head}.{body}.{b64(b'0' * 64)}"
    out["two segments"] = f"{head}.{body}"
    out["garbage"] = "not.a.token"
    # A key of our own.
    foreign = ed25519.Ed25519PrivateKey.generate()
    foreign_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(foreign.public_key()))
    foreign_jwk.update({"kid": forge.kid, "alg": "EdDSA", "use": "sig"})
    for name, extra in {
        "foreign key with the right kid": {"kid": forge.kid},
        "foreign key, unknown kid": {"kid": uuid.uuid4().hex},
        "foreign key in the jwk header": {"kid": forge.kid, "jwk": foreign_jwk},
        "foreign key in the jwk header, no kid": {"jwk": foreign_jwk},
        "jku pointing elsewhere": {"kid": forge.kid, "jku": "https://attacker.example/jwks"},
        "jku, unknown kid": {"kid": "attacker", "jku": "https://attacker.example/jwks"},
        "x5u pointing elsewhere": {"kid": forge.kid, "x5u": "https://attacker.example/cert"},
        "x5c of our own": {"kid": forge.kid, "x5c": [b64(b"not a certificate")]},
        "no kid": {},
    }.items():
        out[name] = jwt.encode(claims, foreign, algorithm="EdDSA", headers=extra)
    # The right key material under another asymmetric algorithm name.
    p256 = ec.generate_private_key(ec.SECP256R1())
    out["ES256 with the right kid"] = jwt.encode(
        claims, p256, algorithm="ES256", headers={"kid": forge.kid}
    )
    return out


async def broken_genuine(forge: Forge) -> dict[str, str]:
    """Tokens the gateway's own key signs, with a claim that makes them unacceptable."""
    now = int(time.time())
    out = {f"missing {claim}": await forge.genuine(**{claim: None}) for claim in REQUIRED}
    out.update(
        {
            "expired": await forge.genuine(iat=now - 3600, exp=now - 60),
            "wrong issuer": await forge.genuine(iss="https://attacker.example"),
            "wrong audience": await forge.genuine(aud="another-api"),
            "audience list without ours": await forge.genuine(aud=["x", "y"]),
            "sub not a person or client": await forge.genuine(sub="root"),
            "sub with a malformed person id": await forge.genuine(sub="person:../../etc"),
            "trust_id not a uuid": await forge.genuine(trust_id="' OR 1=1 --"),
            "trust_id a number": await forge.genuine(trust_id=12),
            "school_ids not a list of uuids": await forge.genuine(school_ids=["x"]),
            "exp a string": await forge.genuine(exp="tomorrow"),
            "not yet valid": await forge.genuine(nbf=now + 3600),
        }
    )
    return out


async def test_forged_and_broken_tokens_answer_401_everywhere(world: Stack, forge: Forge) -> None:
    valid = await forge.genuine()
    attacks = forged_tokens(forge, valid)
    attacks.update(await broken_genuine(forge))
    failures = []
    sent = 0
    for service, path in TARGETS:
        client = world.services[service].client
        ok = await client.get(path, headers={"Authorization": f"Bearer {valid}"})
        assert ok.status_code == 200, (service, path, ok.status_code, ok.text[:300])
        for name, token in attacks.items():
            resp = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            sent += 1
            if (
                resp.status_code != 401
                or resp.headers.get("content-type") != "application/problem+json"
                or resp.json().get("status") != 401
            ):
                failures.append(f"{service} {path} {name}: {resp.status_code} {resp.text[:200]}")
    assert not failures, "\n".join(failures)
    assert sent == len(TARGETS) * len(attacks)
    assert len(attacks) >= 50
