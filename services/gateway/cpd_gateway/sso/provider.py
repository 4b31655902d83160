"""Talking to a trust's OpenID Connect provider: its discovery document and keys (cached a
few minutes, keys fetched again once when an unknown key id shows up), the code exchange, and
the ID token's checks (signature, issuer, audience, expiry, nonce) with joserfc, Authlib's
JOSE library."""

from __future__ import annotations

import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from cpd_gateway.sso.errors import SignInRefused

CACHE_SECONDS = 300.0
# Never "none" nor an HMAC algorithm (the client secret must not sign identities).
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
# Seconds of clock difference tolerated with the provider.
LEEWAY = 30

_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_keys: dict[str, tuple[float, KeySet]] = {}


async def metadata(issuer: str, *, timeout: float) -> dict[str, Any]:
    """The provider's discovery document (its issuer must be the configured one)."""
    cached = _metadata.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            resp = await http.get(url)
        resp.raise_for_status()
        doc = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInRefused(
            "The identity provider cannot be reached.", "temporarily_unavailable"
        ) from exc
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not isinstance(doc, dict) or any(not isinstance(doc.get(k), str) for k in needed):
        raise SignInRefused(
            "The identity provider's discovery document is incomplete.", "server_error"
        )
    if doc["issuer"].rstrip("/") != issuer.rstrip("/"):
        raise SignInRefused("The identity provider names another issuer.", "server_error")
    _metadata[issuer] = (time.monotonic(), doc)
    return doc


async def _key_set(jwks_uri: str, *, timeout: float, fresh: bool = False) -> KeySet:
    cached = _keys.get(jwks_uri)
    if not fresh and cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            resp = await http.get(jwks_uri)
        resp.raise_for_status()
        keys = KeySet.import_key_set(resp.json())
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise SignInRefused("The identity provider's keys cannot be read.", "server_error") from exc
    _keys[jwks_uri] = (time.monotonic(), keys)
    return keys


async def exchange_code(
    doc: dict[str, Any],
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    client_id: str,
    client_secret: str,
    timeout: float,
) -> str:
    """The authorization code for the provider's tokens; answers the ID token."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            resp = await http.post(
                doc["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": code_verifier,
                },
                auth=(client_id, client_secret),
                headers={"Accept": "application/json"},
            )
    except httpx.HTTPError as exc:
        raise SignInRefused(
            "The identity provider cannot be reached.", "temporarily_unavailable"
        ) from exc
    if resp.status_code != 200:
        raise SignInRefused("The identity provider refused the authorization code.")
    try:
        id_token = resp.json().get("id_token")
    except ValueError:
        id_token = None
    if not isinstance(id_token, str):
        raise SignInRefused("The identity provider sent no ID token.")
    return id_token


async def verify_id_token(
    doc: dict[str, Any], id_token: str, *, issuer: str, client_id: str, nonce: str, timeout: float
) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce hold."""
    keys = await _key_set(doc["jwks_uri"], timeout=timeout)
    try:
        try:
            token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        except (ValueError, JoseError):
            # Perhaps a key the provider has just rotated in: read its keys again, once.
            keys = await _key_set(doc["jwks_uri"], timeout=timeout, fresh=True)
            token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
    except (ValueError, JoseError) as exc:
        raise SignInRefused("The ID token's signature is not valid.") from exc
    claims = dict(token.claims)
    checks: list[tuple[bool, str]] = [
        (str(claims.get("iss", "")).rstrip("/") == issuer.rstrip("/"), "issuer"),
        (_has_audience(claims.get("aud"), client_id), "audience"),
        (isinstance(claims.get("sub"), str) and bool(claims["sub"]), "subject"),
        (claims.get("nonce") == nonce, "nonce"),
    ]
    for ok, what in checks:
        if not ok:
            raise SignInRefused(f"The ID token's {what} is not right.")
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY, exp={"essential": True}, iat={"essential": True}
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise SignInRefused("The ID token has expired or is not yet valid.") from exc
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise SignInRefused("The ID token's authorized party is not right.")
    return claims


def _has_audience(aud: Any, client_id: str) -> bool:
    if isinstance(aud, str):
        return aud == client_id
    return isinstance(aud, list) and client_id in aud
