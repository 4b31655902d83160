"""``/v1/programmes``: the trust's CPD offer by career stage and need, and its published runs
(each run is recorded as an activity, so attendance and hours are entered once)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request, Response

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, paginate
from cpd_evaluation.career_stages import service as ladder_service
from cpd_evaluation.cpd_requests import service as requests_service
from cpd_evaluation.cpd_requests.schemas import Cancellation
from cpd_evaluation.models.offer import Programme, ProgrammeRun
from cpd_evaluation.programmes import schemas, service
from cpd_evaluation.terms.offer import ProgrammeFormat

PREFIX = "/v1/programmes"
router = api_router(PREFIX, "programmes", roles=("staff", "school_leader", "trust_admin"))
TEXT = {
    403: "Only leaders and trust admins manage the offer.",
    404: "No such programme or run in your trust.",
    409: "A programme of that title exists, runs were published, or the run is cancelled.",
}


@router.get(
    "",
    response_model=Page[schemas.ProgrammeRead],
    summary="The trust's CPD offer",
    description="Filters: `for_my_stage` (offered to your rung of the ladder, or to everyone), "
    "`for_my_needs` (meets a need of your school or of the whole trust), `stage`, `subject`, "
    "`format`, `from`/`to` (a published run overlaps the dates) and `places_left` (a run "
    "not yet started has places).",
)
async def list_programmes(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    for_my_stage: bool = False,
    for_my_needs: bool = False,
    stage: Annotated[str | None, Query(max_length=40)] = None,
    subject: Annotated[str | None, Query(max_length=100)] = None,
    programme_format: Annotated[ProgrammeFormat | None, Query(alias="format")] = None,
    runs_from: Annotated[date | None, Query(alias="from")] = None,
    runs_to: Annotated[date | None, Query(alias="to")] = None,
    places_left: bool = False,
) -> Any:
    stage_key = stage
    if for_my_stage:
        stage_key = await ladder_service.my_stage(session, principal) or "__none__"
    need_ids = await service.needs_of(session, principal) if for_my_needs else None
    rows, cursor = await paginate(
        session,
        service.list_query(
            principal=principal,
            stage_key=stage_key,
            need_ids=need_ids,
            subject=subject,
            programme_format=programme_format,
            runs_from=runs_from,
            runs_to=runs_to,
            places_left=places_left,
        ),
        Programme.id,
        page,
    )
    return Page[schemas.ProgrammeRead](
        items=await service.programme_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.ProgrammeRead,
    summary="Add a programme to the offer",
    responses=problems(403, 409, described=TEXT),
)
async def create_programme(
    data: schemas.ProgrammeCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    programme = await service.create_programme(session, principal=principal, data=data)
    return resource_response(
        await service.programme_read(session, programme),
        status_code=201,
        location=f"{PREFIX}/{programme.id}",
    )


@router.get(
    "/{programme_id}",
    response_model=schemas.ProgrammeRead,
    summary="Get a programme",
    responses=problems(404, described=TEXT),
)
async def get_programme(
    programme_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    programme = await service.get_programme(session, programme_id, principal=principal)
    return resource_response(await service.programme_read(session, programme))


@router.patch(
    "/{programme_id}",
    response_model=schemas.ProgrammeRead,
    summary="Change a programme",
    description="With If-Match. Runs already published keep their activity as recorded.",
    responses=problems(403, 404, 409, 412, 428, described=TEXT),
)
async def update_programme(
    programme_id: uuid.UUID,
    data: schemas.ProgrammeUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    programme = await service.get_programme(session, programme_id, principal=principal, lock=True)
    require_if_match(request, await service.programme_read(session, programme))
    programme = await service.update_programme(session, programme, principal=principal, data=data)
    return resource_response(await service.programme_read(session, programme))


@router.delete(
    "/{programme_id}",
    status_code=204,
    summary="Remove a programme",
    description="With If-Match; not once runs were published (409).",
    responses=problems(403, 404, 409, 412, 428, described=TEXT),
)
async def delete_programme(
    programme_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    programme = await service.get_programme(session, programme_id, principal=principal, lock=True)
    require_if_match(request, await service.programme_read(session, programme))
    await service.delete_programme(session, programme, principal=principal)
    return Response(status_code=204)


@router.get(
    "/{programme_id}/runs",
    response_model=Page[schemas.RunRead],
    summary="Runs of a programme",
    responses=problems(404, described=TEXT),
)
async def list_runs(
    programme_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    places_left: bool = False,
) -> Any:
    programme = await service.get_programme(session, programme_id, principal=principal)
    stmt = service.runs_query(programme)
    if places_left:
        stmt = stmt.where(
            ProgrammeRun.status == "published",
            ProgrammeRun.places_booked < ProgrammeRun.capacity,
        )
    rows, cursor = await paginate(session, stmt, ProgrammeRun.id, page)
    return Page[schemas.RunRead](items=await service.run_reads(session, rows), next_cursor=cursor)


@router.post(
    "/{programme_id}/runs",
    status_code=201,
    response_model=schemas.RunRead,
    summary="Publish a run",
    description="Records the run's activity with its sessions; booked places join it.",
    responses=problems(403, 404, described=TEXT),
)
async def publish_run(
    programme_id: uuid.UUID, data: schemas.RunCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    programme = await service.get_programme(session, programme_id, principal=principal)
    run = await service.publish_run(session, programme, principal=principal, data=data)
    return resource_response(
        await service.run_read(session, run),
        status_code=201,
        location=f"{PREFIX}/{programme.id}/runs/{run.id}",
    )


@router.get(
    "/{programme_id}/runs/{run_id}",
    response_model=schemas.RunRead,
    summary="Get a run",
    responses=problems(404, described=TEXT),
)
async def get_run(
    programme_id: uuid.UUID, run_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    programme = await service.get_programme(session, programme_id, principal=principal)
    run = await service.get_run(session, programme, run_id)
    return resource_response(await service.run_read(session, run))


@router.post(
    "/{programme_id}/runs/{run_id}/cancel",
    response_model=schemas.RunRead,
    summary="Cancel a run",
    description="Cancels its activity and every open request for it (places and committed "
    "costs released).",
    responses=problems(403, 404, 409, described=TEXT),
)
async def cancel_run(
    programme_id: uuid.UUID,
    run_id: uuid.UUID,
    data: Cancellation,
    session: SessionDep,
    principal: PrincipalDep,
) -> Any:
    programme = await service.get_programme(session, programme_id, principal=principal)
    run = await service.get_run(session, programme, run_id, lock=True)
    run = await service.cancel_run(session, run, principal=principal, reason=data.reason)
    await requests_service.cancel_for_run(session, run)
    return await service.run_read(session, run)
