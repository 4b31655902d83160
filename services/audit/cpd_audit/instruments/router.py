"""HTTP endpoints of instruments (``/v1/instruments``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response

from cpd_audit.instruments import schemas, service
from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep

router = api_router("/v1/instruments", "instruments")


@router.get(
    "",
    response_model=Page[schemas.InstrumentSummary],
    summary="List instruments",
    description=(
        "The built-in instruments (effective-CPD principles: values v practice; the CPD "
        "Quality Framework diagnostic; the staff CPD audit) and your trust's custom "
        "instruments. `kind` filters one or the other. Any person of the trust may read them."
    ),
    responses=problems(403, 422),
)
async def list_instruments(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    kind: Annotated[Literal["builtin", "custom"] | None, Query()] = None,
) -> Page[schemas.InstrumentSummary]:
    rows, next_cursor = await service.list_instruments(
        session, principal=principal, page=page, kind=kind
    )
    return Page(items=[service.to_summary(i, v) for i, v in rows], next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=schemas.InstrumentRead,
    summary="Create a custom instrument",
    description=(
        "A survey template of your trust: sections and items of four types: `paired_scale` "
        "(scored twice, values and practice), `agreement` (4 or 5 points, optional don't "
        "know and comment), `single_choice` and `free_text`; each item may be required. "
        "Trust admins and school leaders. Honours `Idempotency-Key`."
    ),
    responses=problems(403, 409, 422),
)
async def create_instrument(
    body: schemas.InstrumentCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    instrument = await service.create_instrument(session, body, principal=principal)
    read = await service.read_instrument(session, instrument)
    return resource_response(read, status_code=201, location=f"/v1/instruments/{instrument.id}")


@router.get(
    "/{instrument_id}",
    response_model=schemas.InstrumentRead,
    summary="Get an instrument",
    description="An instrument with its latest version's sections and items, and its versions.",
    responses=problems(403, 404),
)
async def get_instrument(
    instrument_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    instrument = await service.get_instrument(session, instrument_id, principal=principal)
    return resource_response(await service.read_instrument(session, instrument))


@router.patch(
    "/{instrument_id}",
    response_model=schemas.InstrumentRead,
    summary="Change a custom instrument",
    description=(
        "Changes the title, description, sections or items (send only what changes) with "
        "`If-Match`. While no audit uses the latest version it is edited in place; once one "
        "does, the change becomes a new version and the used one never changes. Built-in "
        "instruments cannot be changed (403)."
    ),
    responses=problems(403, 404, 412, 422, 428),
)
async def update_instrument(
    instrument_id: uuid.UUID,
    body: schemas.InstrumentUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    instrument = await service.get_instrument(session, instrument_id, principal=principal)
    require_if_match(request, await service.read_instrument(session, instrument))
    instrument = await service.update_instrument(session, instrument, body, principal=principal)
    return resource_response(await service.read_instrument(session, instrument))


@router.get(
    "/{instrument_id}/versions/{version}",
    response_model=schemas.InstrumentVersionRead,
    summary="Get one version of an instrument",
    description="The sections and items exactly as that version has them.",
    responses=problems(403, 404),
)
async def get_instrument_version(
    instrument_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    instrument = await service.get_instrument(session, instrument_id, principal=principal)
    found = await service.get_version(session, instrument, version)
    in_use = await service.version_in_use(session, found.id)
    return resource_response(service.to_version_read(found, in_use=in_use))
