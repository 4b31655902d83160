"""Settings of the gateway service (environment variables prefixed ``CPD_``)."""

from __future__ import annotations

from pydantic import SecretStr

from cpd_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "gateway"
    database_url: str = "postgresql+asyncpg://cpd@127.0.0.1:5432/cpd_gateway"
    # Upstream services (the routing table in cpd_gateway.proxy maps paths to these).
    audit_url: str = "http://127.0.0.1:8001"
    lessonstudy_url: str = "http://127.0.0.1:8002"
    evaluation_url: str = "http://127.0.0.1:8003"
    # Prometheus /metrics listens here, never on the public port (0: not served at all).
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    # /readyz is 200 only when every upstream service's /readyz is (false: the gateway alone).
    ready_requires_upstreams: bool = True
    upstream_timeout_seconds: float = 30.0
    upstream_connect_timeout_seconds: float = 3.0
    upstream_pool_size: int = 200
    # The gateway verifies its own tokens with its own keys; services use jwks_url.
    token_ttl_seconds: int = 900
    signing_algorithm: str = "EdDSA"
    # A rotated-in key is published this long before it signs (at most one such pending key).
    signing_key_pending_seconds: int = 10
    # Browser single-page apps allowed to call the API (CORS), e.g. ["http://localhost:5173"].
    cors_origins: list[str] = []
    # Password hashing runs in a thread pool: its size (0: half the cores, at least one) bounds
    # the cores sign-ins can take; past ``password_hash_queue`` waiting checks, 503.
    password_hash_workers: int = 0
    password_hash_queue: int = 64
    # Failed sign-ins allowed per account from one address, per account from anywhere, and
    # per client address; each allowance refills evenly over ``login_failure_window_seconds``.
    # Past one: 429 with Retry-After (cpd_gateway.identity.throttle says why three).
    login_failures_per_account_and_address: int = 10
    login_failures_per_account: int = 100
    login_failures_per_address: int = 30
    login_failure_window_seconds: float = 600.0
    # Front-end sessions: each refresh token lives this long unused (it is replaced on every
    # use); the session ends at the latest session_max_seconds after sign-in.
    refresh_token_ttl_seconds: int = 14 * 24 * 3600
    session_max_seconds: int = 30 * 24 * 3600
    # Front-end apps (public OAuth clients, no secret) that may hold a session: client id ->
    # the redirect URIs single sign-on may send them back to.
    frontend_clients: dict[str, list[str]] = {"cpd-web": ["http://localhost:5173/auth/callback"]}
    # A trust admin's one-time password reset is valid this long.
    password_reset_ttl_seconds: int = 24 * 3600
    # Rate limits at the gateway, per token subject (requests a minute; in each replica's
    # memory). An API client's own limit (rate_limit_per_minute) overrides the client default.
    rate_limits_enabled: bool = True
    rate_limit_person_per_minute: int = 600
    rate_limit_client_per_minute: int = 1200
    # After an API client's secret is rotated, the previous one works this long.
    client_secret_overlap_seconds: int = 600
    # Refused emails (already used in some trust) each caller may meet before a 429.
    email_refusals_per_caller: int = 10
    email_refusal_window_seconds: float = 600.0
    # Outbound webhooks: plain http to loopback receivers (development only; never in
    # production), the timeout of one post and how often the worker looks for due deliveries.
    webhooks_allow_loopback: bool = False
    webhook_timeout_seconds: float = 5.0
    webhook_poll_seconds: float = 1.0
    # Single sign-on: the gateway's public base URL (the identity provider sends people back
    # to <public_url>/auth/sso/callback, the redirect URI to register there), how long a
    # sign-in may take at the provider, and how long the one-time code for the app lives.
    public_url: str = "http://127.0.0.1:8000"
    sso_login_ttl_seconds: int = 600
    sso_code_ttl_seconds: int = 60
    sso_http_timeout_seconds: float = 5.0
    # Fernet keys (comma-separated: the first encrypts, each decrypts) for the secrets kept to
    # be used again: SSO client secrets, webhook signing secrets (cpd_gateway.secret_box). No
    # default: the API and the worker refuse to start without it; `cpd up`, the tests and
    # the benchmarks set a development key, as they allow loopback webhooks.
    secrets_key: SecretStr | None = None
