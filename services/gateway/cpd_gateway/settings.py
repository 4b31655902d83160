"""Settings of the gateway service (environment variables prefixed ``CPD_``)."""

from __future__ import annotations

from cpd_common.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "gateway"
    database_url: str = "postgresql+asyncpg://cpd@127.0.0.1:5432/cpd_gateway"
