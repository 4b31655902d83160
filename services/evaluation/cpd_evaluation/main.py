"""The evaluation service's ASGI app."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cpd_common.app import create_service_app
from cpd_common.events.admin import dead_letters_router
from cpd_evaluation.activities.router import router as activities_router
from cpd_evaluation.budgets.router import router as budgets_router
from cpd_evaluation.calendar.router import router as calendar_router
from cpd_evaluation.career_stages.router import router as career_stages_router
from cpd_evaluation.case_pupils.router import router as case_pupils_router
from cpd_evaluation.coaching.router import router as coaching_router
from cpd_evaluation.cpd_requests.router import router as cpd_requests_router
from cpd_evaluation.dashboards.router import router as dashboards_router
from cpd_evaluation.entitlement.router import router as entitlement_router
from cpd_evaluation.evaluation_settings.router import router as evaluation_settings_router
from cpd_evaluation.evaluations.router import router as evaluations_router
from cpd_evaluation.evidence.router import router as evidence_router
from cpd_evaluation.feedback.router import router as feedback_router
from cpd_evaluation.follow_ups.router import router as follow_ups_router
from cpd_evaluation.impact.router import router as impact_router
from cpd_evaluation.measures.router import router as measures_router
from cpd_evaluation.metrics.router import router as metrics_router
from cpd_evaluation.observations.router import router as observations_router
from cpd_evaluation.participants.router import router as participants_router
from cpd_evaluation.perception.router import router as perception_router
from cpd_evaluation.programmes.router import router as programmes_router
from cpd_evaluation.providers.router import router as providers_router
from cpd_evaluation.records.router import router as records_router
from cpd_evaluation.reflections.router import router as reflections_router
from cpd_evaluation.reports.router import router as reports_router
from cpd_evaluation.settings import Settings
from cpd_evaluation.support.router import router as support_router

DESCRIPTION = """
What CPD actually happened, to whom, for how long and at what cost. An activity is a course,
an INSET session, coaching, a lesson study (arriving from the lesson study service) ...
with its sessions, costs and the needs it answers; whether it is **sustained** (sessions over
at least six weeks with follow-up) or **one-off** is derived, never typed. Participants carry
attendance and hours; people's CPD records add them up for an academic year against the
trust's entitlement, pro-rated by FTE and the part of the year employed. An **evaluation
plan** says how an activity or programme will be evaluated, from baseline to pupil outcomes.
External quality-assurance bodies pull **anonymised metrics** (rounded, small groups withheld).
"""


def create_app(
    settings: Settings | None = None, *, jwks_client: httpx.AsyncClient | None = None
) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="CPD Evaluation service",
        description=DESCRIPTION,
        routers=[
            dead_letters_router(settings.service_name),
            activities_router,
            participants_router,
            records_router,
            entitlement_router,
            feedback_router,
            reflections_router,
            coaching_router,
            providers_router,
            follow_ups_router,
            dashboards_router,
            evaluations_router,
            measures_router,
            observations_router,
            perception_router,
            case_pupils_router,
            impact_router,
            career_stages_router,
            programmes_router,
            cpd_requests_router,
            budgets_router,
            calendar_router,
            metrics_router,
            support_router,
            evidence_router,
            evaluation_settings_router,
            reports_router,
        ],
        jwks_client=jwks_client,
    )
