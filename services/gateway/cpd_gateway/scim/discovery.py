"""SCIM discovery (RFC 7644 section 4): ``/ServiceProviderConfig``, ``/ResourceTypes`` and
``/Schemas``, built from the resource models so they advertise exactly what the server does.
The CPD extension's ``schools.value`` lists the caller's trust's school ids as its canonical
values: they are the only values it takes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Meta,
    NotFoundException,
    Patch,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
)

from cpd_gateway.scim.models import CpdUser, EnterpriseUser, Group, ScimUser, User
from cpd_gateway.scim.service import MAX_RESULTS, Scope


def service_provider_config(scope: Scope) -> dict[str, Any]:
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="OAuth Bearer Token",
                description="An access token from POST /auth/token "
                "(grant_type=client_credentials) for a client with the hr_integration role.",
                primary=True,
            )
        ],
    )
    config.meta = Meta(
        resource_type="ServiceProviderConfig",
        location=f"{scope.base_url}/ServiceProviderConfig",
    )
    return config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


def _resource_types(scope: Scope) -> list[ResourceType]:
    found = []
    for model in (ScimUser, Group):
        resource_type = ResourceType.from_resource(model)
        resource_type.meta = Meta(
            resource_type="ResourceType",
            location=f"{scope.base_url}/ResourceTypes/{resource_type.id}",
        )
        found.append(resource_type)
    return found


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


def resource_types(scope: Scope) -> dict[str, Any]:
    return _list(
        [t.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE) for t in _resource_types(scope)]
    )


def resource_type(scope: Scope, name: str) -> dict[str, Any]:
    for found in _resource_types(scope):
        if found.id == name:
            return found.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    raise NotFoundException(detail=f"No resource type {name}.")


def _school_year_starts() -> list[str]:
    """Suggested start dates: most school staff start on 1 September."""
    year = datetime.now(UTC).year
    return [f"{y}-09-01T00:00:00Z" for y in range(year, year - 5, -1)]


def _schemas(scope: Scope) -> list[Schema]:
    found = []
    for model in (User, EnterpriseUser, CpdUser, Group):
        schema = model.to_schema()
        if model is CpdUser:
            for attribute in schema.attributes or []:
                if attribute.name == "schools":
                    for sub in attribute.sub_attributes or []:
                        if sub.name == "value":
                            sub.canonical_values = [str(s) for s in scope.schools]
                if attribute.name == "startDate":
                    attribute.canonical_values = _school_year_starts()
        schema.meta = Meta(resource_type="Schema", location=f"{scope.base_url}/Schemas/{schema.id}")
        found.append(schema)
    return found


def schemas(scope: Scope) -> dict[str, Any]:
    return _list([s.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE) for s in _schemas(scope)])


def schema(scope: Scope, urn: str) -> dict[str, Any]:
    for found in _schemas(scope):
        if found.id == urn:
            return found.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    raise NotFoundException(detail=f"No schema {urn}.")
