"""The lessonstudy service's ASGI app."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cpd_common.app import create_service_app
from cpd_common.events.admin import dead_letters_router
from cpd_lessonstudy.case_pupils.router import router as case_pupils_router
from cpd_lessonstudy.communities.router import members as community_members_router
from cpd_lessonstudy.communities.router import router as communities_router
from cpd_lessonstudy.discussions.router import router as discussions_router
from cpd_lessonstudy.enquiries.router import members as enquiry_members_router
from cpd_lessonstudy.enquiries.router import router as enquiries_router
from cpd_lessonstudy.enquiry_reports.router import router as enquiry_reports_router
from cpd_lessonstudy.enquiry_stages.router import router as enquiry_stages_router
from cpd_lessonstudy.findings.router import router as findings_router
from cpd_lessonstudy.interviews.router import router as interviews_router
from cpd_lessonstudy.members.router import router as members_router
from cpd_lessonstudy.observations.router import router as observations_router
from cpd_lessonstudy.process_health.router import router as process_health_router
from cpd_lessonstudy.reports.router import router as reports_router
from cpd_lessonstudy.research_lessons.router import router as research_lessons_router
from cpd_lessonstudy.settings import Settings
from cpd_lessonstudy.studies.router import router as studies_router
from cpd_lessonstudy.time_records.router import router as time_records_router

DESCRIPTION = """
Lesson study: a group of teachers follows a few case pupils through a series of research
lessons. For each lesson they predict how each case pupil will respond at each stage, observe
what the pupils actually do, interview pupils, discuss the pupils' learning (never the
teacher) and plan the next lesson; after usually three cycles they agree findings, write them
up and teach an open-house lesson.

The API follows that order and makes it hard to skip: predictions before teaching (409),
reflections on every case pupil before deciding what to change (422), each lesson's cycle
completed before the next is planned. Pupils are never named: case pupils are 1-3 character
labels with an anonymous profile. Nothing here rates a teacher or feeds appraisal.

Collaborative enquiry lives here too. A classroom action enquiry (`/v1/enquiries`) asks one
focused question about some pupils' learning (checked against five rules, as guidance) and
moves through data collection, analysis, validity checking, replication and reporting; the
service refuses a component before the one it rests on (409). A learning community
(`/v1/learning-communities`) is a group that runs repeated enquiry cycles, lesson studies and
peer coaching for half a term to a year, meets, and shares its work in progress.
"""


def create_app(
    settings: Settings | None = None, *, jwks_client: httpx.AsyncClient | None = None
) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        title="CPD Lesson Study service",
        description=DESCRIPTION,
        # The cross-study process-health path comes before /{study_id} so it is not read as an id.
        routers=[
            dead_letters_router(settings.service_name),
            process_health_router,
            studies_router,
            members_router,
            case_pupils_router,
            research_lessons_router,
            observations_router,
            interviews_router,
            discussions_router,
            findings_router,
            time_records_router,
            reports_router,
            # Collaborative enquiry: classroom action enquiries and learning communities.
            enquiries_router,
            enquiry_members_router,
            enquiry_stages_router,
            enquiry_reports_router,
            communities_router,
            community_members_router,
        ],
        jwks_client=jwks_client,
    )
