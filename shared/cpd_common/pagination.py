"""Cursor pagination, sorting and text search for lists.

``?limit=`` (default 50, max 200) and an opaque ``?cursor=``. By default a list is ordered by
id. A list a UI sorts declares its allowed sorts once (:func:`sort_param`): ``?sort=name``,
``?sort=-created_at`` ...; anything else is a 422. The order is always made total by the id,
and the cursor carries the sort key and the id of the last row (keyset pagination), so pages
stay consistent while rows are added, and a cursor only works with the sort it came from.
``?q=`` (:data:`SearchDep`, :func:`text_search`) matches every word of the query, case
insensitively, anywhere in one of the list's text columns.

Incremental sync: ``?updated_since=`` (RFC 3339) on any list whose model has ``updated_at``
(or, append-only, names its write time in ``__sync_column__``)
returns the rows changed at or after that time, ordered by (``updated_at``, ``id``) whatever
the sort, with a cursor carrying both, so paging through many rows sharing a timestamp gives
each exactly once. Resources deleted since then come in the same order as tombstones
(``{id, deleted: true, updated_at}``, from the service's ``tombstones`` table, of the caller's
trust; of a nested list, under its parent; of a private resource, only for the people who could
have read it: :mod:`cpd_common.tombstones`): :func:`paginate` finds them and :class:`Page` puts them in place, so a router needs
no code of its own for sync.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import re
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, model_validator
from sqlalchemy import ColumnElement, Select, and_, cast, false, or_, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import Uuid

from cpd_common.auth import principal_from_request
from cpd_common.errors import Unprocessable
from cpd_common.tombstones import reader_marks

T = TypeVar("T")

KEYSET_PREFIX = "k."
SYNC_PREFIX = "u."
BAD_CURSOR = [{"loc": "query.cursor", "msg": "invalid cursor"}]


class Tombstone(BaseModel):
    """A resource deleted (or erased) at ``updated_at``, in a page read with ``updated_since``."""

    id: uuid.UUID
    deleted: Literal[True]
    updated_at: datetime


# The tombstones of the page :func:`paginate` read last in this request, with their places
# among its rows: the next :class:`Page` built puts them there.
_page_tombstones: ContextVar[list[tuple[int, Tombstone]] | None] = ContextVar(
    "page_tombstones", default=None
)


class Page(BaseModel, Generic[T]):
    items: list[T | Tombstone]
    next_cursor: str | None = None

    @model_validator(mode="after")
    def _place_tombstones(self) -> Page[T]:
        placed = _page_tombstones.get()
        if placed:
            _page_tombstones.set(None)
            for position, tombstone in placed:
                self.items.insert(min(position, len(self.items)), tombstone)
        return self


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
    # Incremental sync: rows changed at or after this time, and the caller's trust (tombstones).
    updated_since: datetime | None = None
    trust_id: uuid.UUID | None = None
    # The parent a nested list is read under (its last path id): its tombstones only.
    parent_id: uuid.UUID | None = None
    # Who reads, as reader marks (a tombstone with an audience goes only to who could read
    # the resource: :mod:`cpd_common.tombstones`).
    readers: list[uuid.UUID] = []


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        return uuid.UUID(bytes=_b64decode(cursor))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Unprocessable("cursor is not valid", errors=BAD_CURSOR) from exc


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def parse_rfc3339(text: str, *, loc: str) -> datetime:
    """An RFC 3339 date-time with its offset (``Z`` or ``+hh:mm``); anything else is a 422."""
    problem = Unprocessable(
        f"{loc.split('.')[-1]} must be an RFC 3339 date-time with an offset, "
        "e.g. 2026-12-01T08:00:00Z.",
        errors=[{"loc": loc, "msg": "not an RFC 3339 date-time"}],
    )
    if not RFC3339.match(text):
        raise problem
    normalised = text.upper().replace(" ", "T").replace("Z", "+00:00")
    # Python keeps microseconds: finer digits are cut, never rounded up past the instant.
    normalised = re.sub(r"(\.\d{6})\d+", r"\1", normalised)
    try:
        return datetime.fromisoformat(normalised)
    except ValueError as exc:
        raise problem from exc


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (max 200)")] = 50,
    cursor: Annotated[str | None, Query(description="Opaque cursor from next_cursor")] = None,
) -> PageParams:
    if cursor and cursor.startswith(SYNC_PREFIX):
        raise Unprocessable(
            "This cursor belongs to an updated_since sync; keep updated_since while paging.",
            errors=[{"loc": "query.cursor", "msg": "cursor of a sync"}],
        )
    if cursor and cursor.startswith(KEYSET_PREFIX):
        return PageParams(limit=limit, keyset=cursor)
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


async def list_params(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (max 200)")] = 50,
    cursor: Annotated[str | None, Query(description="Opaque cursor from next_cursor")] = None,
    updated_since: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Incremental sync: only items changed at or after this RFC 3339 time, "
            "ordered by (updated_at, id) whatever the sort; deleted ones come as tombstones "
            "`{id, deleted: true, updated_at}` (kept 30 days at least).",
        ),
    ] = None,
) -> PageParams:
    """:data:`PageDep`: the page, and with ``updated_since`` the sync and the caller's trust."""
    if updated_since is None:
        return page_params(limit=limit, cursor=cursor)
    since = parse_rfc3339(updated_since, loc="query.updated_since")
    principal = await principal_from_request(request)
    return PageParams(
        limit=limit,
        keyset=cursor,
        updated_since=since,
        trust_id=principal.trust_id if principal is not None else None,
        parent_id=_parent_id(request),
        readers=reader_marks(principal) if principal is not None else [],
    )


def _parent_id(request: Request) -> uuid.UUID | None:
    """The id of the parent a nested list is read under: the last id in its path."""
    parent = None
    for value in request.path_params.values():
        try:
            parent = uuid.UUID(str(value))
        except ValueError:
            continue
    return parent


PageDep = Annotated[PageParams, Depends(list_params)]


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
    the next cursor. With ``updated_since`` the order is (``updated_at``, ``id``) instead and
    the page's tombstones are handed to the next :class:`Page` built."""
    if params.updated_since is not None:
        return await _sync_page(session, stmt, id_column, params)
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


# ---- incremental sync -----------------------------------------------------------------------


def _encode_sync(at: datetime, last_id: uuid.UUID) -> str:
    payload = json.dumps({"t": at.isoformat(), "i": last_id.hex}, separators=(",", ":"))
    return SYNC_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_sync(cursor: str) -> tuple[datetime, uuid.UUID]:
    if not cursor.startswith(SYNC_PREFIX):
        raise Unprocessable(
            "This cursor does not belong to an updated_since sync; start again without it.",
            errors=[{"loc": "query.cursor", "msg": "cursor of another order"}],
        )
    try:
        payload = json.loads(_b64decode(cursor[len(SYNC_PREFIX) :]))
        at = datetime.fromisoformat(payload["t"])
        return at, uuid.UUID(payload["i"])
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise Unprocessable("cursor is not valid", errors=BAD_CURSOR) from exc


async def _sync_page(
    session: AsyncSession,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    params: PageParams,
) -> tuple[list[Any], str | None]:
    model = id_column.class_
    # An append-only table names the time its rows were written instead (``__sync_column__``).
    column_name = getattr(model, "__sync_column__", "updated_at")
    if model.__mapper__.columns.get(column_name) is None:
        raise Unprocessable(
            "This list has no change time to sync by; read it without updated_since.",
            errors=[{"loc": "query.updated_since", "msg": "not supported by this list"}],
        )
    updated_at = getattr(model, column_name)
    since = params.updated_since
    assert since is not None
    after = _decode_sync(params.keyset) if params.keyset else None

    live = stmt.where(updated_at >= since)
    if after is not None:
        live = live.where(tuple_(updated_at, id_column) > tuple_(*after))
    result = await session.execute(
        live.add_columns(updated_at.label("_sync_at"))
        .order_by(updated_at, id_column)
        .limit(params.limit + 1)
    )
    # (time, id, row or tombstone)
    entries: list[tuple[datetime, uuid.UUID, Any]] = [
        (row[-1], row[0].id, row[0]) for row in result.all()
    ]

    table = model.metadata.tables.get("tombstones")
    if table is not None and params.trust_id is not None:
        gone = select(table.c.id, table.c.deleted_at).where(
            table.c.trust_id == params.trust_id,
            table.c.resource == model.__tablename__,
            table.c.deleted_at >= since,
            table.c.parent_id == params.parent_id
            if params.parent_id is not None
            else table.c.parent_id.is_(None),
        )
        readers = [table.c.visible_to.is_(None)]
        if params.readers:
            readers.append(table.c.visible_to.op("&&")(cast(params.readers, ARRAY(Uuid))))
        gone = gone.where(or_(*readers))
        if after is not None:
            gone = gone.where(tuple_(table.c.deleted_at, table.c.id) > tuple_(*after))
        for gone_id, at in (
            await session.execute(
                gone.order_by(table.c.deleted_at, table.c.id).limit(params.limit + 1)
            )
        ).all():
            entries.append((at, gone_id, Tombstone(id=gone_id, deleted=True, updated_at=at)))

    entries.sort(key=lambda e: (e[0], e[1]))
    next_cursor = None
    if len(entries) > params.limit:
        entries = entries[: params.limit]
        next_cursor = _encode_sync(entries[-1][0], entries[-1][1])
    rows = [e[2] for e in entries if not isinstance(e[2], Tombstone)]
    placed = [(i, e[2]) for i, e in enumerate(entries) if isinstance(e[2], Tombstone)]
    _page_tombstones.set(placed or None)
    return rows, next_cursor
