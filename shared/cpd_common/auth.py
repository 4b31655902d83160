"""Token verification (zero trust behind the gateway): JWKS cache, Principal, role and tenant checks."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cpd_common.errors import Forbidden, ServiceUnavailable, Unauthorized
from cpd_common.revocation import RevocationCache

PersonRole = Literal["trust_admin", "school_leader", "staff", "governor"]
"""Roles a person holds (given in the directory)."""
ClientRole = Literal["qa_reader", "hr_integration"]
"""Roles an API client holds."""
Role = Literal[PersonRole, ClientRole]
"""Every role a token can carry: the one definition the services and the gateway use."""
PERSON_ROLES: tuple[PersonRole, ...] = get_args(PersonRole)
CLIENT_ROLES: tuple[ClientRole, ...] = get_args(ClientRole)
ROLES: tuple[Role, ...] = PERSON_ROLES + CLIENT_ROLES
# Never "none", never an HMAC algorithm: a public key must not double as a shared secret.
ALLOWED_ALGORITHMS = frozenset({"EdDSA", "RS256", "ES256", "PS256"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person (``person_id``) or an API client (``client_id``)."""

    sub: str
    trust_id: uuid.UUID
    school_ids: frozenset[uuid.UUID] = frozenset()
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    person_id: uuid.UUID | None = None
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_trust_admin(self) -> bool:
        return "trust_admin" in self.roles

    def has_any(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        sub = str(claims["sub"])
        kind, _, ident = sub.partition(":")
        # A subject is a person or an API client; anything else is not a token we issue.
        if kind not in {"person", "client"} or not ident:
            raise ValueError(f"unknown subject kind {kind!r}")
        return Principal(
            sub=sub,
            trust_id=uuid.UUID(str(claims["trust_id"])),
            school_ids=frozenset(uuid.UUID(str(s)) for s in claims.get("school_ids") or []),
            roles=frozenset(claims.get("roles") or []),
            scopes=frozenset(str(claims.get("scope") or "").split()),
            person_id=uuid.UUID(ident) if kind == "person" else None,
            client_id=ident if kind == "client" else None,
            claims=claims,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("The token's claims are incomplete.") from exc


class JwksCache:
    """Public keys of the gateway, cached and refreshed when an unknown ``kid`` shows up."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        ttl: float = 300.0,
        min_refresh_interval: float = 5.0,
    ) -> None:
        self.url = url
        self._client = client
        self._own_client = client is None
        self.ttl = ttl
        self.min_refresh_interval = min_refresh_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        # Whether the last refresh was for a kid it did not find (made up, or not yet published).
        self._last_refresh_missed = False
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        if self._client is not None and self._own_client:
            await self._client.aclose()

    async def _refresh(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        resp = await self._client.get(self.url)
        resp.raise_for_status()
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in resp.json().get("keys", []):
            try:
                key = jwt.PyJWK(jwk)
            except jwt.PyJWTError:
                continue
            if jwk.get("kid") and key.algorithm_name in ALLOWED_ALGORITHMS:
                keys[jwk["kid"]] = key
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def get(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        key = self._keys.get(kid)
        if key is not None and now - self._fetched_at < self.ttl:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            stale = time.monotonic() - self._fetched_at >= self.ttl
            # Refresh on an unknown kid (rotation) at once, unless the last refresh was for a
            # kid it did not find: then not more than once per interval, so a flood of made-up
            # kids cannot hammer the gateway.
            if (key is None or stale) and (
                time.monotonic() - self._fetched_at >= self.min_refresh_interval
                or stale
                or not self._last_refresh_missed
            ):
                try:
                    await self._refresh()
                except (httpx.HTTPError, ValueError):
                    if key is None and not self._keys:
                        raise
                key = self._keys.get(kid)
                self._last_refresh_missed = key is None
        return key


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token that passed every check but revocation: until ``expires`` (its ``exp``, without
    the leeway), while ``key`` is still the one the JWKS cache holds for ``kid``."""

    principal: Principal
    kid: str
    key: jwt.PyJWK
    expires: float


class TokenVerifier:
    """Signature, issuer, audience, expiry, algorithm allow-list, then revocation: a token the
    directory has since taken access from (:mod:`cpd_common.revocation`) is refused.

    A token that verified is remembered (by its exact string, in a bounded LRU of
    ``cache_size`` tokens) until its ``exp``, so a caller's next requests skip the header
    parsing, the signature and the claims checks. What can change while a token lives is
    checked on every request all the same: that its signing key is still published (a key the
    gateway withdrew, or a refreshed key set, sends it through full verification again) and
    revocation (:meth:`RevocationCache.check`, in memory). Refused tokens are never cached."""

    def __init__(
        self,
        jwks: JwksCache,
        *,
        issuer: str,
        audience: str,
        algorithms: list[str] | None = None,
        revocations: RevocationCache | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.algorithms = [a for a in (algorithms or ["EdDSA"]) if a in ALLOWED_ALGORITHMS]
        self.revocations = revocations
        self.cache_size = cache_size
        self._verified: OrderedDict[str, _Verified] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        principal = await self._cached(token)
        if principal is None:
            principal = await self._verify_fully(token)
        if self.revocations is not None:
            self.revocations.check(principal)
        return principal

    async def _cached(self, token: str) -> Principal | None:
        hit = self._verified.get(token)
        if hit is None:
            return None
        if time.time() >= hit.expires:
            self._verified.pop(token, None)
            return None
        try:
            key = await self.jwks.get(hit.kid)
        except (httpx.HTTPError, ValueError):
            key = None
        if key is not hit.key:
            # Withdrawn or refetched: verify against what the gateway publishes now.
            self._verified.pop(token, None)
            return None
        self._verified.move_to_end(token)
        return hit.principal

    def _remember(self, token: str, principal: Principal, kid: str, key: jwt.PyJWK) -> None:
        if self.cache_size <= 0:
            return
        exp = principal.claims.get("exp")
        if not isinstance(exp, int | float):
            return
        self._verified[token] = _Verified(principal, kid, key, float(exp))
        self._verified.move_to_end(token)
        while len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)

    async def _verify_fully(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is malformed.") from exc
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise Unauthorized("The token's algorithm is not accepted.")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("The token names no signing key.")
        try:
            key = await self.jwks.get(kid)
        except (httpx.HTTPError, ValueError) as exc:
            # The gateway's keys are out of reach: our problem, not the caller's token.
            raise ServiceUnavailable(
                "The token cannot be checked right now; retry shortly.",
                headers={"Retry-After": "2"},
            ) from exc
        if key is None or key.algorithm_name != alg:
            raise Unauthorized("The token was signed by an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The token is not valid.") from exc
        principal = principal_from_claims(claims)
        self._remember(token, principal, kid, key)
        return principal


bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/token")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
    principal = await request.app.state.verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


async def principal_from_request(request: Request) -> Principal | None:
    """The verified principal when the request carries a bearer token; ``None`` without one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    principal = await request.app.state.verifier.verify(token.strip())
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[..., Any]:
    """Dependency: the caller must hold one of ``roles`` (403 otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden("Your role does not allow this.")
        return principal

    return check
