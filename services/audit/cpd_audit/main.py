"""The audit service's ASGI app."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cpd_audit.alignment_plans.router import router as alignment_plans_router
from cpd_audit.audits.router import router as audits_router
from cpd_audit.career_plans.router import router as career_plans_router
from cpd_audit.cpd_plans.router import router as cpd_plans_router
from cpd_audit.instruments.router import router as instruments_router
from cpd_audit.needs.router import accept_router as suggested_needs_router
from cpd_audit.needs.router import router as needs_router
from cpd_audit.responses.router import router as responses_router
from cpd_audit.results.router import router as results_router
from cpd_audit.self_audits.router import router as self_audits_router
from cpd_audit.settings import Settings
from cpd_common.app import create_service_app
from cpd_common.events.admin import dead_letters_router


def create_app(
    settings: Settings | None = None, *, jwks_client: httpx.AsyncClient | None = None
) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="CPD Audit service",
        routers=[
            dead_letters_router(settings.service_name),
            instruments_router,
            audits_router,
            responses_router,
            results_router,
            needs_router,
            suggested_needs_router,
            alignment_plans_router,
            cpd_plans_router,
            career_plans_router,
            self_audits_router,
        ],
        jwks_client=jwks_client,
    )
