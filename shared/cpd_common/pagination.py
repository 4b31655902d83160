"""Cursor pagination: ``?limit=`` (default 50, max 200) and an opaque ``?cursor=``, ordered by id."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from cpd_common.errors import Unprocessable

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    after: uuid.UUID | None


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (ValueError, TypeError) as exc:
        raise Unprocessable(
            "cursor is not valid", errors=[{"loc": "query.cursor", "msg": "invalid cursor"}]
        ) from exc


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (max 200)")] = 50,
    cursor: Annotated[str | None, Query(description="Opaque cursor from next_cursor")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    params: PageParams,
) -> tuple[list[Any], str | None]:
    """Runs ``stmt`` (which selects ORM rows) ordered by id, returning a page and the next cursor."""
    if params.after is not None:
        stmt = stmt.where(id_column > params.after)
    rows = list((await session.scalars(stmt.order_by(id_column).limit(params.limit + 1))).all())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor(rows[-1].id)
    return rows, next_cursor
