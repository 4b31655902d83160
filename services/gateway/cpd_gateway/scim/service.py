"""SCIM 2.0 provisioning (RFC 7643/7644) as an adapter over the directory: a SCIM User is a
directory person (:mod:`cpd_gateway.scim.users`), a Group a directory group
(:mod:`cpd_gateway.scim.groups`). Every change goes through the directory's own functions
(:mod:`cpd_gateway.directory.people`, ``groups``, ``erasure``), so it is checked by the same
rules and publishes the same ``directory.*`` events as ``/v1/people``; a request that changes
nothing publishes nothing.

Only API clients with the ``hr_integration`` role use it, inside their own trust. This module
holds what both resources share: who may provision (the scope of a request), versions,
references, list pages and the directory's input checks.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import InvalidValueException, SearchRequest
from scim2_models.path import AttrPath
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cpd_common.auth import Principal
from cpd_common.errors import Forbidden
from cpd_gateway.models import School, Trust
from cpd_gateway.scim import filters

DEFAULT_COUNT = 100


MAX_RESULTS = 200


PROVISIONING_ROLE = "hr_integration"


def require_provisioning_client(principal: Principal) -> None:
    if principal.client_id is None or PROVISIONING_ROLE not in principal.roles:
        raise Forbidden("Only HR integration clients (role hr_integration) can use SCIM.")


@dataclass
class Scope:
    """What every SCIM answer of one request needs: the caller, its trust, its schools (by
    id, with names) and the absolute base URL resources are located under."""

    principal: Principal
    trust: Trust
    schools: dict[uuid.UUID, str]
    base_url: str

    def location(self, kind: str, ident: uuid.UUID | str) -> str:
        return f"{self.base_url}/{kind}/{ident}"


async def load_scope(session: AsyncSession, principal: Principal, *, base_url: str) -> Scope:
    require_provisioning_client(principal)
    # The trust and its schools in one round trip (every SCIM request loads them).
    rows = (
        await session.execute(
            select(Trust, School.id, School.name)
            .outerjoin(School, School.trust_id == Trust.id)
            .where(Trust.id == principal.trust_id)
        )
    ).all()
    if not rows:
        raise Forbidden("This client's trust no longer exists.")
    return Scope(
        principal=principal,
        trust=rows[0][0],
        schools={school_id: name for _, school_id, name in rows if school_id is not None},
        base_url=base_url.rstrip("/"),
    )


def version_of(body: dict[str, Any]) -> str:
    """A weak ETag over the resource's SCIM representation (``meta.version`` left out)."""
    data = {k: v for k, v in body.items() if k != "meta"}
    meta = {k: v for k, v in (body.get("meta") or {}).items() if k != "version"}
    raw = json.dumps([data, meta], sort_keys=True, separators=(",", ":"), default=str)
    return 'W/"' + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest() + '"'


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def reference_id(value: str | None, ref: str | None, what: str) -> uuid.UUID | None:
    """The id a ``{value, $ref}`` pair names (``value`` first, else the last segment of
    ``$ref``); ``invalidValue`` when it names none."""
    raw = value or (ref.rstrip("/").rsplit("/", 1)[-1] if ref else None)
    if raw is None:
        return None
    ident = parse_id(raw)
    if ident is None:
        raise InvalidValueException(detail=f"{what} {raw!r} is not an id of this trust")
    return ident


async def search_page(
    session: AsyncSession, stmt: Select[Any], request: SearchRequest[Any], key: Any, *, groups: bool
) -> tuple[int, list[Any]]:
    """RFC 7644 section 3.4.2.4: 1-based ``startIndex`` and ``count`` (capped at
    ``MAX_RESULTS``), with the total the filter matches."""
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    count = DEFAULT_COUNT if request.count is None else min(max(request.count, 0), MAX_RESULTS)
    if count == 0:
        return total, []
    order: list[Any] = []
    if request.sort_by is not None:
        path = request.sort_by.ast
        if not isinstance(path, AttrPath):
            raise InvalidValueException(detail="sortBy names one attribute.")
        column = filters.sort_column(path, groups=groups)
        descending = str(request.sort_order or "ascending").lower().startswith("desc")
        order.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    order.append(key)
    start = max(request.start_index or 1, 1)
    rows = await session.scalars(stmt.order_by(*order).offset(start - 1).limit(count))
    return total, list(rows.all())


def checked(model: type[Any], fields: dict[str, Any]) -> Any:
    """The directory's own input model, so SCIM values meet the same limits as REST ones."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise InvalidValueException(detail=f"Some values are not valid: {problems}") from None
