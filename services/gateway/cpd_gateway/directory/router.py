"""Directory endpoints: ``/v1/trusts``, ``/v1/schools``, ``/v1/people``, ``/v1/groups``,
``/v1/clients``. About 500 lines: each route is a few lines of HTTP over the service modules
beside it (people, groups, clients, erasure), kept in one router so the directory's surface
reads in one place."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from cpd_common.auth import Principal, PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import Forbidden, NotFound, problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import api_router
from cpd_common.pagination import Page, PageDep, SearchDep, SortKey, page_params, paginate
from cpd_gateway.directory import clients, erasure, groups, people, picker, schemas, trusts
from cpd_gateway.directory.probes import email_probes
from cpd_gateway.models import ApiClient, Group, Person, School


async def _not_provisioning_clients(principal: PrincipalDep) -> Principal:
    """HR systems keep people in step through ``/scim/v2`` and ``/v1/imports/people`` only
    (docs/provisioning.md); the directory's REST API is for people and their admins."""
    if trusts.is_provisioning_client(principal):
        raise Forbidden(
            "HR integration clients provision people through /scim/v2 or /v1/imports/people."
        )
    return principal


router = api_router("/v1")
PEOPLE_ONLY = [Depends(_not_provisioning_clients)]

NOT_FOUND = problems(404, described={404: "Not found (or in another trust)"})
PRECONDITIONS = problems(412, 428)
EMAIL_PROBLEMS = problems(
    409,
    429,
    described={409: "This email cannot be used", 429: "Too many unusable emails: wait"},
)
IF_MATCH = (
    "Requires `If-Match` with the ETag of your last GET (428 without it, 412 when stale), "
    "like PATCH."
)


# ---- trusts ---------------------------------------------------------------------------------


@router.get(
    "/trusts", response_model=Page[schemas.TrustRead], tags=["directory"], summary="Your trust"
)
async def list_trusts(session: SessionDep, principal: PrincipalDep) -> Any:
    trust = await trusts.get_trust(session, principal.trust_id, principal=principal)
    return Page[schemas.TrustRead](items=[schemas.TrustRead.model_validate(trust)])


@router.get(
    "/trusts/{trust_id}", response_model=schemas.TrustRead, tags=["directory"], responses=NOT_FOUND
)
async def get_trust(trust_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    trust = await trusts.get_trust(session, trust_id, principal=principal)
    return resource_response(schemas.TrustRead.model_validate(trust))


@router.patch(
    "/trusts/{trust_id}", response_model=schemas.TrustRead, tags=["directory"], responses=NOT_FOUND
)
async def update_trust(
    trust_id: uuid.UUID,
    data: schemas.TrustUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    trust = await trusts.get_trust(session, trust_id, principal=principal)
    require_if_match(request, schemas.TrustRead.model_validate(trust))
    trust = await trusts.update_trust(session, trust, data, principal=principal)
    return resource_response(schemas.TrustRead.model_validate(trust))


# ---- schools --------------------------------------------------------------------------------


@router.get(
    "/schools",
    response_model=Page[schemas.SchoolRead],
    tags=["directory"],
    summary="Schools of your trust",
)
async def list_schools(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Any:
    rows, cursor = await paginate(
        session, trusts.schools_query(principal=principal), School.id, page
    )
    return Page[schemas.SchoolRead](
        items=[schemas.SchoolRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.post(
    "/schools",
    status_code=201,
    response_model=schemas.SchoolRead,
    tags=["directory"],
    summary="Add a school (trust admin)",
    description="Publishes `directory.school.upserted`.",
)
async def create_school(
    data: schemas.SchoolCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    school = await trusts.create_school(session, data, principal=principal)
    return resource_response(
        schemas.SchoolRead.model_validate(school),
        status_code=201,
        location=f"/v1/schools/{school.id}",
    )


@router.get(
    "/schools/{school_id}",
    response_model=schemas.SchoolRead,
    tags=["directory"],
    responses=NOT_FOUND,
)
async def get_school(
    school_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    school = await trusts.get_school(session, school_id, principal=principal)
    return resource_response(schemas.SchoolRead.model_validate(school))


@router.patch(
    "/schools/{school_id}",
    response_model=schemas.SchoolRead,
    tags=["directory"],
    responses=NOT_FOUND,
)
async def update_school(
    school_id: uuid.UUID,
    data: schemas.SchoolUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    school = await trusts.get_school(session, school_id, principal=principal)
    require_if_match(request, schemas.SchoolRead.model_validate(school))
    school = await trusts.update_school(session, school, data, principal=principal)
    return resource_response(schemas.SchoolRead.model_validate(school))


# ---- people ---------------------------------------------------------------------------------


def _person(person: Person, login: bool) -> schemas.PersonRead:
    read = schemas.PersonRead.model_validate(person)
    read.has_login = login
    return read


@router.get(
    "/people",
    dependencies=PEOPLE_ONLY,
    response_model=Page[schemas.PersonRead],
    tags=["directory"],
    summary="Staff of your trust",
    description="Trust admins see everyone in the trust, school leaders the people of their schools, "
    "others only themselves. `q` searches name, email, department and external id; to find "
    "colleagues by name, use `GET /v1/people/search`.",
)
async def list_people(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    sort: Annotated[SortKey, Depends(people.SORTS)],
    q: SearchDep = None,
    school_id: Annotated[uuid.UUID | None, Query()] = None,
    staff_group: Annotated[str | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
) -> Any:
    stmt = people.people_query(
        principal=principal, school_id=school_id, staff_group=staff_group, active=active, q=q
    )
    rows, cursor = await paginate(session, stmt, Person.id, page, sort=sort)
    logins = await people.logins_of(session, [r.id for r in rows])
    return Page[schemas.PersonRead](
        items=[_person(r, r.id in logins) for r in rows], next_cursor=cursor
    )


@router.post(
    "/people",
    dependencies=PEOPLE_ONLY,
    status_code=201,
    response_model=schemas.PersonRead,
    tags=["directory"],
    summary="Add a person (trust admin)",
    description="Publishes `directory.person.upserted`. With `password` (and `email`) the person "
    "can sign in with `grant_type=password`. Emails are sign-in names, unique across the "
    "platform: one already used anywhere is a 409 that says only that it cannot be used, and "
    "many such refusals in a row are a 429.",
    responses=EMAIL_PROBLEMS,
)
async def create_person(
    data: schemas.PersonCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    async with email_probes(request, principal, data.email):
        person = await people.create_person(session, data, principal=principal)
    return resource_response(
        _person(person, bool(data.password)), status_code=201, location=f"/v1/people/{person.id}"
    )


@router.get(
    "/people/search",
    response_model=Page[schemas.Colleague],
    tags=["directory"],
    summary="Find colleagues by name (people picker)",
    description=(
        "For choosing a person (a lesson-study member, a mentor to share a career plan with): "
        "active colleagues of your schools (a trust admin: of the trust) whose name has a word "
        "starting with `q` (at least 2 characters; several words must all match). Answers "
        "only id, display name and the schools you share, ordered by name."
    ),
    responses=problems(403),
)
async def search_people(
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(min_length=2, max_length=100, description="Start of a name")],
    limit: Annotated[int, Query(ge=1, le=50, description="Page size (max 50)")] = 20,
    cursor: Annotated[str | None, Query(description="Opaque cursor from next_cursor")] = None,
) -> Any:
    page = page_params(limit=limit, cursor=cursor)
    stmt = picker.colleagues_query(principal=principal, q=q)
    rows, next_cursor = await paginate(session, stmt, Person.id, page, sort=picker.BY_NAME)
    return Page[schemas.Colleague](
        items=await picker.colleagues(session, rows, principal=principal), next_cursor=next_cursor
    )


@router.get(
    "/people/{person_id}",
    dependencies=PEOPLE_ONLY,
    response_model=schemas.PersonRead,
    tags=["directory"],
    responses=NOT_FOUND,
)
async def get_person(
    person_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    person = await people.get_person(session, person_id, principal=principal)
    return resource_response(_person(person, await people.has_login(session, person.id)))


@router.patch(
    "/people/{person_id}",
    dependencies=PEOPLE_ONLY,
    response_model=schemas.PersonRead,
    tags=["directory"],
    responses={**NOT_FOUND, **EMAIL_PROBLEMS},
    description="Send `If-Match` with the ETag of your last GET. Publishes `directory.person.upserted`.",
)
async def update_person(
    person_id: uuid.UUID,
    data: schemas.PersonUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    person = await people.get_person(session, person_id, principal=principal)
    require_if_match(request, _person(person, await people.has_login(session, person.id)))
    async with email_probes(request, principal, data.email):
        person = await people.update_person(session, person, data, principal=principal)
    return resource_response(_person(person, await people.has_login(session, person.id)))


@router.post(
    "/people/{person_id}/erase",
    dependencies=PEOPLE_ONLY,
    status_code=202,
    response_model=schemas.ErasureRead,
    tags=["directory"],
    responses=NOT_FOUND,
    summary="Right to erasure (trust admin)",
    description="Blanks the person's personal data here and publishes `directory.person.erased`, on "
    "which every service deletes or anonymises what it holds. Repeating it changes nothing.",
)
async def erase_person(person_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Any:
    person = await people.get_person(session, person_id, principal=principal)
    person = await erasure.erase_person(session, person, principal=principal)
    return await erasure.report(session, person)


@router.get(
    "/people/{person_id}/erasure",
    dependencies=PEOPLE_ONLY,
    response_model=schemas.ErasureRead,
    tags=["directory"],
    responses=NOT_FOUND,
    summary="Erasure status",
)
async def erasure_status(person_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Any:
    person = await people.get_person(session, person_id, principal=principal)
    if person.erased_at is None:
        raise NotFound("This person has not been erased.")
    return await erasure.report(session, person)


# ---- groups ---------------------------------------------------------------------------------


@router.get(
    "/groups",
    dependencies=PEOPLE_ONLY,
    response_model=Page[schemas.GroupRead],
    tags=["directory"],
    summary="Groups of people",
)
async def list_groups(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Any:
    rows, cursor = await paginate(session, groups.groups_query(principal=principal), Group.id, page)
    return Page[schemas.GroupRead](
        items=[schemas.GroupRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.post(
    "/groups",
    status_code=201,
    response_model=schemas.GroupRead,
    tags=["directory"],
    dependencies=PEOPLE_ONLY,
)
async def create_group(
    data: schemas.GroupCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    group = await groups.create_group(session, data, principal=principal)
    return resource_response(
        schemas.GroupRead.model_validate(group), status_code=201, location=f"/v1/groups/{group.id}"
    )


@router.get(
    "/groups/{group_id}",
    response_model=schemas.GroupRead,
    tags=["directory"],
    responses=NOT_FOUND,
    dependencies=PEOPLE_ONLY,
)
async def get_group(group_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    group = await groups.get_group(session, group_id, principal=principal)
    return resource_response(schemas.GroupRead.model_validate(group))


@router.patch(
    "/groups/{group_id}",
    response_model=schemas.GroupRead,
    tags=["directory"],
    responses=NOT_FOUND,
    dependencies=PEOPLE_ONLY,
)
async def update_group(
    group_id: uuid.UUID,
    data: schemas.GroupUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    group = await groups.get_group(session, group_id, principal=principal)
    require_if_match(request, schemas.GroupRead.model_validate(group))
    group = await groups.update_group(session, group, data, principal=principal)
    return resource_response(schemas.GroupRead.model_validate(group))


@router.delete(
    "/groups/{group_id}",
    dependencies=PEOPLE_ONLY,
    status_code=204,
    tags=["directory"],
    responses={**NOT_FOUND, **PRECONDITIONS},
    summary="Delete a group",
    description=IF_MATCH,
)
async def delete_group(
    group_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    group = await groups.get_group(session, group_id, principal=principal)
    require_if_match(request, schemas.GroupRead.model_validate(group))
    await groups.delete_group(session, group, principal=principal)
    return Response(status_code=204)


# ---- API clients ----------------------------------------------------------------------------


@router.get(
    "/clients",
    response_model=Page[schemas.ClientRead],
    tags=["clients"],
    summary="API clients (trust admin)",
)
async def list_clients(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Any:
    rows, cursor = await paginate(
        session, clients.clients_query(principal=principal), ApiClient.id, page
    )
    return Page[schemas.ClientRead](
        items=[schemas.ClientRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.post(
    "/clients",
    status_code=201,
    response_model=schemas.ClientCreated,
    tags=["clients"],
    summary="Register an API client (trust admin)",
    description="The secret is returned once, in this response; only its hash is stored.",
)
async def create_client(
    data: schemas.ClientCreate, session: SessionDep, principal: PrincipalDep
) -> Response:
    client, secret = await clients.create_client(session, data, principal=principal)
    body = schemas.ClientCreated(
        **schemas.ClientRead.model_validate(client).model_dump(), client_secret=secret
    )
    return resource_response(body, status_code=201, location=f"/v1/clients/{client.id}")


@router.get(
    "/clients/{client_id}", response_model=schemas.ClientRead, tags=["clients"], responses=NOT_FOUND
)
async def get_client(
    client_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    client = await clients.get_client(session, client_id, principal=principal)
    return resource_response(schemas.ClientRead.model_validate(client))


@router.patch(
    "/clients/{client_id}",
    response_model=schemas.ClientRead,
    tags=["clients"],
    responses={**NOT_FOUND, **PRECONDITIONS},
    summary="Rename a client or change its rate limit (trust admin)",
    description="A new `rate_limit_per_minute` applies to the tokens issued after the change. "
    + IF_MATCH,
)
async def update_client(
    client_id: uuid.UUID,
    data: schemas.ClientUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    client = await clients.get_client(session, client_id, principal=principal)
    require_if_match(request, schemas.ClientRead.model_validate(client))
    client = await clients.update_client(session, client, data, principal=principal)
    return resource_response(schemas.ClientRead.model_validate(client))


@router.post(
    "/clients/{client_id}/secret",
    response_model=schemas.ClientSecretRotated,
    tags=["clients"],
    responses={**NOT_FOUND, **problems(409, described={409: "The client was revoked"})},
    summary="Rotate a client's secret (trust admin)",
    description="Returns a new secret, once. The previous secret keeps working for a short "
    "overlap (`previous_secret_expires_at`, 10 minutes by default) so the client can be "
    "updated without downtime; tokens already issued stay valid. To stop a leaked secret at "
    "once, revoke the client instead.",
)
async def rotate_client_secret(
    client_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    client = await clients.get_client(session, client_id, principal=principal)
    client, secret = await clients.rotate_client_secret(
        session,
        client,
        principal=principal,
        overlap_seconds=request.app.state.settings.client_secret_overlap_seconds,
    )
    body = schemas.ClientSecretRotated(
        **schemas.ClientRead.model_validate(client).model_dump(), client_secret=secret
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.delete(
    "/clients/{client_id}",
    status_code=204,
    tags=["clients"],
    responses={**NOT_FOUND, **PRECONDITIONS},
    summary="Revoke a client",
    description="Its secrets and every token issued to it stop working at once, at the gateway "
    "and (as `directory.client.revoked` arrives) at every service. " + IF_MATCH,
)
async def revoke_client(
    client_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    client = await clients.get_client(session, client_id, principal=principal)
    require_if_match(request, schemas.ClientRead.model_validate(client))
    await clients.revoke_client(session, client, principal=principal)
    return Response(status_code=204)
