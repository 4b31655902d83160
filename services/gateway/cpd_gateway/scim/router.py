"""``/scim/v2``: SCIM 2.0 endpoints for HR systems (API clients with ``hr_integration``),
served by the gateway itself. Bodies are ``application/scim+json`` (``application/json`` is
accepted too); every error is a SCIM Error (:mod:`cpd_gateway.scim.errors`).

Why this file is long: RFC 7644 fixes the surface (discovery, Users and Groups, each with
list, get, create, replace, patch and delete), and each route is a thin translation between
SCIM's wire shapes and :mod:`cpd_gateway.scim.service`; split by resource, the two halves
would repeat the same request parsing and error mapping."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from scim2_models import (
    Context,
    InvalidSyntaxException,
    ListResponse,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    PreconditionFailedException,
    Resource,
    ResponseParameters,
    SearchRequest,
)

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import PROBLEM_JSON
from cpd_gateway.directory.probes import email_probes
from cpd_gateway.scim import discovery, errors, service
from cpd_gateway.scim import groups as scim_groups
from cpd_gateway.scim import users as scim_users
from cpd_gateway.scim.models import Group as ScimGroup
from cpd_gateway.scim.models import ScimUser

# Any User write can set the sign-in email: each is counted against the caller's allowance
# of refused emails, so SCIM is no way round the probe limit of /v1/people.
ANY_EMAIL = "(any)"


class ScimResponse(JSONResponse):
    media_type = errors.SCIM_JSON


class ScimRoute(APIRoute):
    """Answers every failure of a SCIM route, authentication included, as a SCIM Error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                response = errors.response_for(exc)
                if response is None:
                    raise
                return response

        return route


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": errors.ScimErrorBody}


def _resource(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {errors.SCIM_JSON: {"schema": {"type": "object"}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("invalidFilter, invalidSyntax, invalidValue, invalidPath, noTarget, mutability"),
    401: _error("No valid access token"),
    403: _error("Not an HR integration client"),
    # The platform's input guard answers before SCIM reads the request, as problem+json.
    422: {
        "description": "A NUL character in the path, query, headers or body",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}
ONE = {**ERRORS, 404: _error("No such resource in your trust")}
WRITE = {**ONE, 409: _error("uniqueness"), 412: _error("If-Match does not match meta.version")}
SCIM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            errors.SCIM_JSON: {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}

router = APIRouter(
    prefix="/scim/v2", route_class=ScimRoute, tags=["scim"], default_response_class=ScimResponse
)


async def _scope(request: Request, session: SessionDep, principal: PrincipalDep) -> service.Scope:
    return await service.load_scope(session, principal, base_url=str(request.base_url) + "scim/v2")


ScopeDep = Annotated[service.Scope, Depends(_scope)]


async def _json(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in (errors.SCIM_JSON, "application/json"):
        raise InvalidSyntaxException(detail="Send the body as application/scim+json.")
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise InvalidSyntaxException(detail="The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    return body


def _answer(
    resource: Resource[Any],
    *,
    status_code: int = 200,
    context: Context = Context.RESOURCE_QUERY_RESPONSE,
    parameters: ResponseParameters[Any] | None = None,
) -> ScimResponse:
    assert resource.meta is not None
    headers = {"ETag": str(resource.meta.version)}
    if status_code == 201:
        headers["Location"] = str(resource.meta.location)
    body = resource.model_dump(scim_ctx=context, response_parameters=parameters)
    return ScimResponse(body, status_code=status_code, headers=headers)


def _check_version(request: Request, resource: Resource[Any]) -> None:
    """``If-Match`` (optional in SCIM): a stale version is 412."""
    header = request.headers.get("if-match")
    if not header or resource.meta is None:
        return
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    current = str(resource.meta.version).removeprefix("W/")
    if "*" not in wanted and current not in wanted:
        raise PreconditionFailedException(
            detail="The resource changed since you read it (meta.version); read it again."
        )


def _not_modified(request: Request, resource: Resource[Any]) -> bool:
    header = request.headers.get("if-none-match")
    if not header or resource.meta is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return str(resource.meta.version).removeprefix("W/") in tags


def _parameters(model: Any, attributes: str | None, excluded: str | None) -> Any:
    raw = {"attributes": attributes, "excludedAttributes": excluded}
    return ResponseParameters[model].model_validate({k: v for k, v in raw.items() if v})


def _search(model: Any, raw: dict[str, Any]) -> Any:
    return SearchRequest[model].model_validate({k: v for k, v in raw.items() if v is not None})


FilterQ = Annotated[str | None, Query(alias="filter", description="RFC 7644 filter")]
StartQ = Annotated[int | None, Query(alias="startIndex", description="1-based")]
CountQ = Annotated[int | None, Query(description=f"at most {service.MAX_RESULTS}")]
SortByQ = Annotated[str | None, Query(alias="sortBy")]
SortOrderQ = Annotated[str | None, Query(alias="sortOrder", pattern="^(ascending|descending)$")]
AttributesQ = Annotated[str | None, Query(description="comma-separated attribute paths")]
ExcludedQ = Annotated[str | None, Query(alias="excludedAttributes")]


def _query(
    filter_: str | None,
    start: int | None,
    count: int | None,
    sort_by: str | None,
    sort_order: str | None,
    attributes: str | None,
    excluded: str | None,
) -> dict[str, Any]:
    return {
        "filter": filter_,
        "startIndex": start,
        "count": count,
        "sortBy": sort_by,
        "sortOrder": sort_order,
        "attributes": attributes,
        "excludedAttributes": excluded,
    }


def _list(resources: list[Any], total: int, request: Any, model: Any) -> ScimResponse:
    listing = ListResponse[model](
        total_results=total,
        start_index=max(request.start_index or 1, 1),
        items_per_page=len(resources),
        resources=resources,
    )
    return ScimResponse(
        listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=request)
    )


# ---- discovery --------------------------------------------------------------------------------


@router.get(
    "/ServiceProviderConfig", responses={200: _resource("What this server supports"), **ERRORS}
)
async def service_provider_config(scope: ScopeDep) -> Response:
    return ScimResponse(discovery.service_provider_config(scope))


@router.get("/ResourceTypes", responses={200: _resource("User and Group"), **ERRORS})
async def resource_types(scope: ScopeDep) -> Response:
    return ScimResponse(discovery.resource_types(scope))


@router.get("/ResourceTypes/{name}", responses={200: _resource("A resource type"), **ONE})
async def resource_type(name: str, scope: ScopeDep) -> Response:
    return ScimResponse(discovery.resource_type(scope, name))


@router.get("/Schemas", responses={200: _resource("User, its extensions, and Group"), **ERRORS})
async def schemas(scope: ScopeDep) -> Response:
    return ScimResponse(discovery.schemas(scope))


@router.get("/Schemas/{urn}", responses={200: _resource("A schema"), **ONE})
async def schema(urn: str, scope: ScopeDep) -> Response:
    return ScimResponse(discovery.schema(scope, urn))


# ---- Users ------------------------------------------------------------------------------------


@router.get("/Users", responses={200: _resource("ListResponse of Users"), **ERRORS})
async def list_users(
    session: SessionDep,
    scope: ScopeDep,
    filter_: FilterQ = None,
    start_index: StartQ = None,
    count: CountQ = None,
    sort_by: SortByQ = None,
    sort_order: SortOrderQ = None,
    attributes: AttributesQ = None,
    excluded_attributes: ExcludedQ = None,
) -> Response:
    raw = _query(filter_, start_index, count, sort_by, sort_order, attributes, excluded_attributes)
    request = _search(ScimUser, raw)
    total, people = await scim_users.list_users(session, request, scope=scope)
    return _list(await scim_users.users(session, people, scope=scope), total, request, ScimUser)


@router.post(
    "/Users/.search",
    responses={200: _resource("ListResponse of Users"), **ERRORS},
    openapi_extra=SCIM_BODY,
)
async def search_users(request: Request, session: SessionDep, scope: ScopeDep) -> Response:
    search = _search(ScimUser, await _json(request))
    total, people = await scim_users.list_users(session, search, scope=scope)
    return _list(await scim_users.users(session, people, scope=scope), total, search, ScimUser)


@router.post(
    "/Users",
    status_code=201,
    responses={201: _resource("The User created"), **ERRORS, 409: _error("uniqueness")},
    openapi_extra=SCIM_BODY,
    description="Publishes `directory.person.upserted`.",
)
async def create_user(request: Request, session: SessionDep, scope: ScopeDep) -> Response:
    payload = ScimUser.model_validate(
        await _json(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST
    )
    async with email_probes(request, scope.principal, ANY_EMAIL):
        person, new = await scim_users.create_user(session, payload, scope=scope)
    created = await scim_users.user(session, person, scope=scope, new=new)
    return _answer(created, status_code=201, context=Context.RESOURCE_CREATION_RESPONSE)


@router.get(
    "/Users/{user_id}",
    responses={
        200: _resource("The User"),
        304: {"description": "Unchanged (If-None-Match)"},
        **ONE,
    },
)
async def get_user(
    user_id: str,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    attributes: AttributesQ = None,
    excluded_attributes: ExcludedQ = None,
) -> Response:
    parameters = _parameters(ScimUser, attributes, excluded_attributes)
    person = await scim_users.get_user(session, user_id, scope=scope)
    found = await scim_users.user(session, person, scope=scope)
    if _not_modified(request, found):
        return Response(status_code=304, headers={"ETag": str(found.meta and found.meta.version)})
    return _answer(found, parameters=parameters)


@router.put(
    "/Users/{user_id}",
    responses={200: _resource("The User replaced"), **WRITE},
    openapi_extra=SCIM_BODY,
    description="Publishes `directory.person.upserted` when something changed.",
)
async def replace_user(
    user_id: str, request: Request, session: SessionDep, scope: ScopeDep
) -> Response:
    payload = ScimUser.model_validate(
        await _json(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
    )
    person = await scim_users.get_user(session, user_id, scope=scope, for_update=True)
    _check_version(request, await scim_users.user(session, person, scope=scope))
    async with email_probes(request, scope.principal, ANY_EMAIL):
        person = await scim_users.replace_user(session, person, payload, scope=scope)
    replaced = await scim_users.user(session, person, scope=scope)
    return _answer(replaced, context=Context.RESOURCE_REPLACEMENT_RESPONSE)


@router.patch(
    "/Users/{user_id}",
    responses={200: _resource("The User patched"), **WRITE},
    openapi_extra=SCIM_BODY,
    description="add / replace / remove, with value filters in paths. Publishes "
    "`directory.person.upserted` when something changed.",
)
async def patch_user(
    user_id: str,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    attributes: AttributesQ = None,
    excluded_attributes: ExcludedQ = None,
) -> Response:
    patch = PatchOp[ScimUser].model_validate(
        await _json(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    parameters = _parameters(ScimUser, attributes, excluded_attributes)
    person = await scim_users.get_user(session, user_id, scope=scope, for_update=True)
    _check_version(request, await scim_users.user(session, person, scope=scope))
    async with email_probes(request, scope.principal, ANY_EMAIL):
        person = await scim_users.patch_user(session, person, patch, scope=scope)
    patched = await scim_users.user(session, person, scope=scope)
    return _answer(patched, context=Context.RESOURCE_PATCH_RESPONSE, parameters=parameters)


@router.delete(
    "/Users/{user_id}",
    status_code=204,
    responses={204: {"description": "De-provisioned"}, **WRITE},
    description="Deactivates the person (`directory.person.upserted`) and, when the trust's "
    "`deprovisioning` is `erase`, erases them (`directory.person.erased`). The User is then "
    "404 here.",
)
async def delete_user(
    user_id: str, request: Request, session: SessionDep, scope: ScopeDep
) -> Response:
    person = await scim_users.get_user(session, user_id, scope=scope, for_update=True)
    _check_version(request, await scim_users.user(session, person, scope=scope))
    await scim_users.delete_user(session, person, scope=scope)
    return Response(status_code=204)


# ---- Groups -----------------------------------------------------------------------------------


@router.get("/Groups", responses={200: _resource("ListResponse of Groups"), **ERRORS})
async def list_groups(
    session: SessionDep,
    scope: ScopeDep,
    filter_: FilterQ = None,
    start_index: StartQ = None,
    count: CountQ = None,
    sort_by: SortByQ = None,
    sort_order: SortOrderQ = None,
    attributes: AttributesQ = None,
    excluded_attributes: ExcludedQ = None,
) -> Response:
    raw = _query(filter_, start_index, count, sort_by, sort_order, attributes, excluded_attributes)
    request = _search(ScimGroup, raw)
    total, rows = await scim_groups.list_groups(session, request, scope=scope)
    return _list(await scim_groups.groups(session, rows, scope=scope), total, request, ScimGroup)


@router.post(
    "/Groups/.search",
    responses={200: _resource("ListResponse of Groups"), **ERRORS},
    openapi_extra=SCIM_BODY,
)
async def search_groups(request: Request, session: SessionDep, scope: ScopeDep) -> Response:
    search = _search(ScimGroup, await _json(request))
    total, rows = await scim_groups.list_groups(session, search, scope=scope)
    return _list(await scim_groups.groups(session, rows, scope=scope), total, search, ScimGroup)


@router.post(
    "/Groups",
    status_code=201,
    responses={201: _resource("The Group created"), **ERRORS},
    openapi_extra=SCIM_BODY,
)
async def create_group(request: Request, session: SessionDep, scope: ScopeDep) -> Response:
    payload = ScimGroup.model_validate(
        await _json(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST
    )
    row = await scim_groups.create_group(session, payload, scope=scope)
    created = await scim_groups.group(session, row, scope=scope)
    return _answer(created, status_code=201, context=Context.RESOURCE_CREATION_RESPONSE)


@router.get(
    "/Groups/{group_id}",
    responses={
        200: _resource("The Group"),
        304: {"description": "Unchanged (If-None-Match)"},
        **ONE,
    },
)
async def get_group(
    group_id: str,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    attributes: AttributesQ = None,
    excluded_attributes: ExcludedQ = None,
) -> Response:
    parameters = _parameters(ScimGroup, attributes, excluded_attributes)
    row = await scim_groups.get_group(session, group_id, scope=scope)
    found = await scim_groups.group(session, row, scope=scope)
    if _not_modified(request, found):
        return Response(status_code=304, headers={"ETag": str(found.meta and found.meta.version)})
    return _answer(found, parameters=parameters)


@router.put(
    "/Groups/{group_id}",
    responses={200: _resource("The Group replaced"), **WRITE},
    openapi_extra=SCIM_BODY,
)
async def replace_group(
    group_id: str, request: Request, session: SessionDep, scope: ScopeDep
) -> Response:
    payload = ScimGroup.model_validate(
        await _json(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
    )
    row = await scim_groups.get_group(session, group_id, scope=scope, for_update=True)
    _check_version(request, await scim_groups.group(session, row, scope=scope))
    row = await scim_groups.replace_group(session, row, payload, scope=scope)
    replaced = await scim_groups.group(session, row, scope=scope)
    return _answer(replaced, context=Context.RESOURCE_REPLACEMENT_RESPONSE)


@router.patch(
    "/Groups/{group_id}",
    responses={200: _resource("The Group patched"), **WRITE},
    openapi_extra=SCIM_BODY,
    description="add / replace / remove, e.g. members by value filter.",
)
async def patch_group(
    group_id: str,
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    attributes: AttributesQ = None,
    excluded_attributes: ExcludedQ = None,
) -> Response:
    patch = PatchOp[ScimGroup].model_validate(
        await _json(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    parameters = _parameters(ScimGroup, attributes, excluded_attributes)
    row = await scim_groups.get_group(session, group_id, scope=scope, for_update=True)
    _check_version(request, await scim_groups.group(session, row, scope=scope))
    row = await scim_groups.patch_group(session, row, patch, scope=scope)
    patched = await scim_groups.group(session, row, scope=scope)
    return _answer(patched, context=Context.RESOURCE_PATCH_RESPONSE, parameters=parameters)


@router.delete(
    "/Groups/{group_id}", status_code=204, responses={204: {"description": "Deleted"}, **WRITE}
)
async def delete_group(
    group_id: str, request: Request, session: SessionDep, scope: ScopeDep
) -> Response:
    row = await scim_groups.get_group(session, group_id, scope=scope, for_update=True)
    _check_version(request, await scim_groups.group(session, row, scope=scope))
    await scim_groups.delete_group(session, row, scope=scope)
    return Response(status_code=204)


@router.post(
    "/.search",
    responses={**ERRORS, 501: _error("Search /Users/.search or /Groups/.search")},
)
async def search_everything(scope: ScopeDep) -> Response:
    """RFC 7644 section 3.4.3 lets a server search every resource type at the root; this
    one searches one type at a time."""
    raise NotImplementedException(
        detail="Search /Users/.search or /Groups/.search: one resource type at a time."
    )


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown(rest: str, request: Request, scope: ScopeDep) -> Response:
    """A path no route serves is 404; a method a path does not take is 405 with ``Allow``."""
    allowed = sorted(
        method
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.endpoint is not unknown
        and route.path_regex.match(request.url.path)
        for method in route.methods or ()
    )
    if allowed:
        return errors.scim_error(
            405,
            f"{request.method} is not allowed here.",
            headers={"Allow": ", ".join(allowed)},
        )
    raise NotFoundException(detail=f"No SCIM endpoint /{rest}.")
