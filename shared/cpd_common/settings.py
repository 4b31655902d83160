"""Settings base shared by every service (pydantic-settings, env prefix ``CPD_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service needs to run. Each service subclasses it; never built at import time.

    Environment variables: ``CPD_DATABASE_URL`` (this service's own database), ``CPD_NATS_URL``,
    ``CPD_JWKS_URL`` (the gateway's public keys), ``CPD_JWT_ISSUER``, ``CPD_JWT_AUDIENCE`` ...
    """

    model_config = SettingsConfigDict(env_prefix="CPD_", extra="ignore")

    service_name: str = "service"
    database_url: str = "postgresql+asyncpg://cpd@127.0.0.1:5432/cpd"
    # Connections kept open, and opened beyond them under bursts (then closed on return). Under
    # load the overflow churns: a connect (TLS probe, asyncpg setup) and a close per checkout,
    # which profiled at ~10% of the gateway's CPU on a read. So the same 20 at most are kept.
    db_pool_size: int = 20
    db_max_overflow: int = 0
    nats_url: str = "nats://127.0.0.1:4222"
    jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    jwt_issuer: str = "https://cpd.local"
    jwt_audience: str = "cpd-api"
    jwt_algorithms: list[str] = ["EdDSA", "RS256"]
    jwks_cache_seconds: int = 300
    # The longest an access token lives (with leeway): revocations older than this are moot.
    token_max_age_seconds: int = 3600
    # Full reload of the token revocations, besides the instant NOTIFY of each change.
    revocations_reload_seconds: float = 30.0
    log_level: str = "INFO"
    log_json: bool = True
    # How long the API waits before answering 503 when a dependency is down.
    retry_after_seconds: int = 2
    # The worker's own /healthz, /readyz and /metrics (0: none).
    worker_health_port: int = 0
    # 0.0.0.0 in containers so the orchestrator can probe it.
    worker_health_host: str = "127.0.0.1"
    # The worker beats every worker_heartbeat_seconds; /readyz of the API is 503 when the newest
    # beat is older than worker_stale_seconds (false: the API's readiness ignores the worker).
    worker_heartbeat_seconds: float = 2.0
    worker_stale_seconds: float = 15.0
    ready_requires_worker: bool = True
    # Request bodies: at most max_body_bytes (JSON, forms ...), max_upload_bytes for the
    # upload_content_types (CSV files); larger is a 413, refused while the body arrives.
    max_body_bytes: int = 1 << 20
    max_upload_bytes: int = 20 << 20
    upload_content_types: list[str] = ["text/csv"]
    # JetStream replicas of the CPD stream (3 on a three-node NATS cluster).
    stream_replicas: int = 1
