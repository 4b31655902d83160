"""Cursor pagination, sorting and text search for lists.

``?limit=`` (default 50, max 200) and an opaque ``?cursor=``. By default a list is ordered by
id. A list a UI sorts declares its allowed sorts once (:func:`sort_param`): ``?sort=name``,
``?sort=-created_at`` ...; anything else is a 422. The order is always made total by the id,
and the cursor carries the sort key and the id of the last row (keyset pagination), so pages
stay consistent while rows are added, and a cursor only works with the sort it came from.
``?q=`` (:data:`SearchDep`, :func:`text_search`) matches every word of the query, case
insensitively, anywhere in one of the list's text columns.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, false, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from cpd_common.errors import Unprocessable

T = TypeVar("T")

KEYSET_PREFIX = "k."
BAD_CURSOR = [{"loc": "query.cursor", "msg": "invalid cursor"}]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class SortKey:
    """One allowed order of a list: ``name`` as the client wrote it (``-name`` descending)
    and the column or SQL expression it sorts by (``None``: the id)."""

    name: str
    column: Any
    descending: bool

    @property
    def by_id(self) -> bool:
        return self.column is None


ID_ORDER = SortKey("id", None, False)


class PageParams(BaseModel):
    limit: int
    after: uuid.UUID | None = None
    # A keyset cursor of a sorted list, checked against the sort by :func:`paginate`.
    keyset: str | None = None


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        return uuid.UUID(bytes=_b64decode(cursor))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Unprocessable("cursor is not valid", errors=BAD_CURSOR) from exc


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (max 200)")] = 50,
    cursor: Annotated[str | None, Query(description="Opaque cursor from next_cursor")] = None,
) -> PageParams:
    if cursor and cursor.startswith(KEYSET_PREFIX):
        return PageParams(limit=limit, keyset=cursor)
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


# ---- sorting --------------------------------------------------------------------------------


def sort_param(columns: Mapping[str, Any], *, default: str = "id") -> Callable[..., SortKey]:
    """A dependency reading ``?sort=`` for a list that sorts by ``columns`` (name -> column or
    SQL expression). ``id`` is always allowed; each name may be prefixed with ``-``. The
    allowed values are an enum in the OpenAPI document; any other value is a 422."""
    options = {"id": None, **columns}
    allowed = tuple(v for name in options for v in (name, f"-{name}"))
    if default not in allowed:
        raise ValueError(f"default sort {default!r} is not one of {allowed}")
    choice: Any = Literal.__getitem__(allowed)
    query = Query(
        description="Order of the list: "
        + ", ".join(f"`{a}`" for a in allowed)
        + " (`-`: descending); ties are broken by id."
    )

    def sort_key(sort: str = default) -> SortKey:
        field = sort.removeprefix("-")
        return SortKey(name=sort, column=options[field], descending=sort.startswith("-"))

    # Built at run time (the allowed values are data), so FastAPI is given the signature.
    sort_key.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "sort",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=default,
                annotation=Annotated[choice, query],
            )
        ],
        return_annotation=SortKey,
    )
    return sort_key


def _encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return {"s": str(value)}


def _decode_value(raw: Any) -> Any:
    if not isinstance(raw, dict):
        return raw
    ((tag, text),) = raw.items()
    converters: dict[str, Callable[[str], Any]] = {
        "dt": datetime.fromisoformat,
        "d": date.fromisoformat,
        "u": uuid.UUID,
        "n": Decimal,
        "s": str,
    }
    return converters[tag](text)


def _encode_keyset(sort: SortKey, value: Any, last_id: uuid.UUID) -> str:
    payload = json.dumps(
        {"s": sort.name, "v": _encode_value(value), "i": last_id.hex}, separators=(",", ":")
    )
    return KEYSET_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_keyset(cursor: str, sort: SortKey) -> tuple[Any, uuid.UUID]:
    try:
        payload = json.loads(_b64decode(cursor[len(KEYSET_PREFIX) :]))
        name, value, last_id = payload["s"], _decode_value(payload["v"]), uuid.UUID(payload["i"])
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise Unprocessable("cursor is not valid", errors=BAD_CURSOR) from exc
    if name != sort.name:
        raise Unprocessable(
            f"This cursor belongs to sort={name}; keep the sort while paging.",
            errors=[{"loc": "query.cursor", "msg": "cursor of another sort"}],
        )
    return value, last_id


def _after(column: Any, id_column: Any, value: Any, last_id: uuid.UUID, desc: bool) -> Any:
    """Rows after (``value``, ``last_id``) in ``column`` NULLS LAST, then id, both ``desc``."""
    id_after = id_column < last_id if desc else id_column > last_id
    if value is None:
        return and_(column.is_(None), id_after)
    beyond = column < value if desc else column > value
    return or_(beyond, and_(column == value, id_after), column.is_(None))


# ---- search ---------------------------------------------------------------------------------

SearchDep = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="Text search: every word must appear (any case) in one of the list's "
        "searched fields.",
    ),
]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_search(q: str | None, *columns: Any) -> ColumnElement[bool] | None:
    """The condition for ``?q=``: each word of ``q`` in one of ``columns`` (ILIKE). ``None``
    when there is nothing to search for."""
    words = (q or "").split()
    if not words:
        return None
    if not columns:
        return false()
    return and_(
        *(or_(*(c.ilike(f"%{_like_escape(w)}%", escape="\\") for c in columns)) for w in words)
    )


# ---- the page -------------------------------------------------------------------------------


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    params: PageParams,
    *,
    sort: SortKey = ID_ORDER,
) -> tuple[list[Any], str | None]:
    """Runs ``stmt`` (which selects ORM rows) in ``sort`` order (then id), returning a page and
    the next cursor."""
    if sort.by_id and not sort.descending:
        if params.keyset is not None:
            raise Unprocessable(
                "This cursor belongs to another sort; keep the sort while paging.",
                errors=[{"loc": "query.cursor", "msg": "cursor of another sort"}],
            )
        if params.after is not None:
            stmt = stmt.where(id_column > params.after)
        rows = list((await session.scalars(stmt.order_by(id_column).limit(params.limit + 1))).all())
        next_cursor = None
        if len(rows) > params.limit:
            rows = rows[: params.limit]
            next_cursor = encode_cursor(rows[-1].id)
        return rows, next_cursor

    column = id_column if sort.by_id else sort.column
    if params.after is not None:
        raise Unprocessable(
            "This cursor belongs to another sort; keep the sort while paging.",
            errors=[{"loc": "query.cursor", "msg": "cursor of another sort"}],
        )
    if params.keyset is not None:
        value, last_id = _decode_keyset(params.keyset, sort)
        stmt = stmt.where(_after(column, id_column, value, last_id, sort.descending))
    if sort.descending:
        order = [column.desc().nulls_last(), id_column.desc()]
    else:
        order = [column.asc().nulls_last(), id_column.asc()]
    result = await session.execute(
        stmt.add_columns(column.label("_sort_key")).order_by(*order).limit(params.limit + 1)
    )
    pairs = [(row[0], row[-1]) for row in result.all()]
    next_cursor = None
    if len(pairs) > params.limit:
        pairs = pairs[: params.limit]
        last, value = pairs[-1]
        next_cursor = _encode_keyset(sort, value, last.id)
    return [row for row, _ in pairs], next_cursor
