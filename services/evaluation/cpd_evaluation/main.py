"""The evaluation service's ASGI app."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cpd_common.app import create_service_app
from cpd_evaluation.settings import Settings


def create_app(
    settings: Settings | None = None, *, jwks_client: httpx.AsyncClient | None = None
) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="CPD Evaluation service",
        routers=[],
        jwks_client=jwks_client,
    )
