"""SCIM filters and ``sortBy`` (RFC 7644 section 3.4.2) as SQLAlchemy expressions over the
directory tables.

scim2-models parses and checks the filter against the resource model (syntax, operators an
attribute's type allows, values of the right type); this module walks the parsed tree and
maps each attribute to a column. Values are always bound parameters. An attribute the model
declares but the directory cannot search (``groups`` of a User, say) is ``invalidFilter``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from scim2_models import InvalidFilterException
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import String, and_, any_, cast, false, func, literal, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from cpd_gateway.models import Group, Person
from cpd_gateway.scim.models import CORE_GROUP, CORE_USER, CPD_USER, ENTERPRISE_USER

Kind = Literal["text", "exact", "bool", "datetime", "date", "number", "uuid", "uuids"]


@dataclass(frozen=True)
class Column:
    """A searchable attribute: the SQL expression that holds it and how it compares."""

    expr: Any
    kind: Kind
    sortable: bool = True


def _user_name() -> Any:
    # People added through /v1/people have no SCIM userName: their email stands in for it.
    return func.coalesce(Person.user_name, Person.email)


USER_COLUMNS: dict[tuple[str, str, str | None], Column] = {
    ("", "id", None): Column(Person.id, "uuid"),
    ("", "externalid", None): Column(Person.external_id, "exact"),
    ("", "username", None): Column(_user_name(), "text"),
    ("", "displayname", None): Column(Person.name, "text"),
    ("", "name", "formatted"): Column(Person.name, "text"),
    ("", "name", "givenname"): Column(Person.given_name, "text"),
    ("", "name", "familyname"): Column(Person.family_name, "text"),
    ("", "active", None): Column(Person.active, "bool"),
    ("", "emails", None): Column(Person.email, "text"),
    ("", "emails", "value"): Column(Person.email, "text"),
    ("", "meta", "created"): Column(Person.created_at, "datetime"),
    ("", "meta", "lastmodified"): Column(Person.updated_at, "datetime"),
    (ENTERPRISE_USER, "employeenumber", None): Column(Person.employee_number, "text"),
    (ENTERPRISE_USER, "department", None): Column(Person.department, "text"),
    (ENTERPRISE_USER, "manager", None): Column(Person.line_manager_id, "uuid"),
    (ENTERPRISE_USER, "manager", "value"): Column(Person.line_manager_id, "uuid"),
    (CPD_USER, "staffgroup", None): Column(Person.staff_group, "text"),
    (CPD_USER, "careerstage", None): Column(Person.career_stage, "text"),
    (CPD_USER, "fte", None): Column(Person.fte, "number"),
    (CPD_USER, "startdate", None): Column(Person.start_date, "date"),
    (CPD_USER, "schools", None): Column(Person.school_ids, "uuids", sortable=False),
    (CPD_USER, "schools", "value"): Column(Person.school_ids, "uuids", sortable=False),
}

GROUP_COLUMNS: dict[tuple[str, str, str | None], Column] = {
    ("", "id", None): Column(Group.id, "uuid"),
    ("", "externalid", None): Column(Group.external_id, "exact"),
    ("", "displayname", None): Column(Group.name, "text"),
    ("", "members", None): Column(Group.member_ids, "uuids", sortable=False),
    ("", "members", "value"): Column(Group.member_ids, "uuids", sortable=False),
    ("", "meta", "created"): Column(Group.created_at, "datetime"),
    ("", "meta", "lastmodified"): Column(Group.updated_at, "datetime"),
}

CORE_URNS = {CORE_USER.lower(), CORE_GROUP.lower()}


def _key(path: AttrPath, parent: AttrPath | None = None) -> tuple[str, str, str | None]:
    uri = (parent.uri if parent else path.uri) or ""
    uri = "" if uri.lower() in CORE_URNS else uri
    if parent is not None:
        return uri, parent.attr.lower(), path.attr.lower()
    return uri, path.attr.lower(), path.sub_attr.lower() if path.sub_attr else None


def _invalid(detail: str) -> InvalidFilterException:
    return InvalidFilterException(detail=detail)


def _datetime(value: Any, attr: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(f"{attr} compares with a dateTime, not {value!r}") from None
    else:
        raise _invalid(f"{attr} compares with a dateTime, not {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _uuid(value: Any, attr: str) -> uuid.UUID | None:
    """An id; a value that is not one matches nothing (it cannot be any resource's id)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


ORDERING = {
    CompareOperator.gt: lambda c, v: c > v,
    CompareOperator.ge: lambda c, v: c >= v,
    CompareOperator.lt: lambda c, v: c < v,
    CompareOperator.le: lambda c, v: c <= v,
}


class _SqlFilter(FilterVisitor[ColumnElement[bool]]):
    """Turns a parsed filter into a WHERE clause. Every leaf is null-safe (never NULL), so
    ``not`` and ``ne`` treat a missing attribute as "not equal", as RFC 7644 reads."""

    def __init__(
        self, columns: dict[tuple[str, str, str | None], Column], parent: AttrPath | None = None
    ) -> None:
        self.columns = columns
        self.parent = parent

    def _column(self, path: AttrPath) -> Column:
        column = self.columns.get(_key(path, self.parent))
        if column is None:
            shown = f"{self.parent}.{path}" if self.parent else str(path)
            raise _invalid(f"'{shown}' cannot be used in a filter here")
        return column

    def visit_logical_expr(self, node: LogicalExpr) -> ColumnElement[bool]:
        terms = [self.visit(term) for term in node.terms]
        return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)

    def visit_not(self, node: Not) -> ColumnElement[bool]:
        return not_(self.visit(node.expr))

    def visit_present(self, node: Present) -> ColumnElement[bool]:
        if self.parent is not None and _key(node.attr_path, self.parent)[1:] == ("emails", "type"):
            return Person.email.is_not(None)
        column = self._column(node.attr_path)
        if column.kind == "uuids":
            return func.coalesce(func.cardinality(column.expr), 0) > 0
        if column.kind == "text":
            return func.coalesce(column.expr, "") != ""
        return column.expr.is_not(None)

    def visit_value_path(self, node: ValuePath) -> ColumnElement[bool]:
        if self.parent is not None:
            raise _invalid("a value filter cannot be nested in another")
        return _SqlFilter(self.columns, parent=node.attr_path).visit(node.val_filter)

    def visit_comparison(self, node: Comparison) -> ColumnElement[bool]:
        key = _key(node.attr_path, self.parent)
        if key[1:] in {("emails", "type"), ("emails", "primary")} and key[0] == "":
            return self._email_flag(key[2], node)
        column = self._column(node.attr_path)
        return _compare(column, node.op, node.value, str(node.attr_path))

    def _email_flag(self, which: str | None, node: Comparison) -> ColumnElement[bool]:
        """The one address there is has type "work" and is primary."""
        has = Person.email.is_not(None)
        if which == "type":
            expected = "work"
            matches = str(node.value).lower() == expected
            if node.op == CompareOperator.eq:
                return has if matches else false()
            if node.op == CompareOperator.ne:
                return not_(has) if matches else true()
            if node.op in {CompareOperator.co, CompareOperator.sw, CompareOperator.ew}:
                test: Callable[[str, str], bool] = {
                    CompareOperator.co: lambda a, b: b in a,
                    CompareOperator.sw: str.startswith,
                    CompareOperator.ew: str.endswith,
                }[node.op]
                return has if test(expected, str(node.value).lower()) else false()
            raise _invalid("emails.type compares with eq, ne, co, sw or ew")
        if node.op not in {CompareOperator.eq, CompareOperator.ne} or not isinstance(
            node.value, bool
        ):
            raise _invalid("emails.primary compares with eq or ne and true or false")
        matches = node.value is True
        if node.op == CompareOperator.ne:
            matches = not matches
        return has if matches else not_(has)


def _compare(column: Column, op: CompareOperator, value: Any, attr: str) -> ColumnElement[bool]:
    expr, kind = column.expr, column.kind
    if value is None:
        if op == CompareOperator.eq:
            return expr.is_(None)
        if op == CompareOperator.ne:
            return expr.is_not(None)
        raise _invalid(f"{attr} {op.value} null compares nothing")
    if kind == "uuids":
        ident = _uuid(value, attr)
        if op == CompareOperator.eq:
            return literal(ident) == any_(expr) if ident else false()
        if op == CompareOperator.ne:
            return not_(func.coalesce(literal(ident) == any_(expr), False)) if ident else true()
        raise _invalid(f"{attr} compares with eq or ne")
    if kind == "uuid":
        if op in {CompareOperator.eq, CompareOperator.ne}:
            ident = _uuid(value, attr)
            hit = and_(expr.is_not(None), expr == ident) if ident else false()
            return hit if op == CompareOperator.eq else not_(hit)
        # Substrings of an id compare its text form.
        expr, kind = cast(expr, String), "exact"
    if kind == "bool":
        if not isinstance(value, bool) or op not in {CompareOperator.eq, CompareOperator.ne}:
            raise _invalid(f"{attr} compares with eq or ne and true or false")
        hit = and_(expr.is_not(None), expr.is_(value))
        return hit if op == CompareOperator.eq else not_(hit)
    if kind in {"datetime", "date"}:
        moment = _datetime(value, attr)
        bound: Any = moment.date() if kind == "date" else moment
        if op in ORDERING:
            return and_(expr.is_not(None), ORDERING[op](expr, bound))
        if op in {CompareOperator.eq, CompareOperator.ne}:
            hit = and_(expr.is_not(None), expr == bound)
            return hit if op == CompareOperator.eq else not_(hit)
        raise _invalid(f"{attr} is a dateTime: compare it with eq, ne, gt, ge, lt or le")
    if kind == "number":
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(value, bool) or not math.isfinite(value):
            raise _invalid(f'{attr} compares with a number such as "0.8"')
        if op in ORDERING:
            return and_(expr.is_not(None), ORDERING[op](expr, value))
        if op in {CompareOperator.eq, CompareOperator.ne}:
            hit = and_(expr.is_not(None), expr == value)
            return hit if op == CompareOperator.eq else not_(hit)
        raise _invalid(f"{attr} is a number: compare it with eq, ne, gt, ge, lt or le")
    if not isinstance(value, str):
        raise _invalid(f"{attr} compares with a string")
    if kind == "text":
        expr, value = func.lower(expr), value.lower()
    present = expr.is_not(None)
    if op == CompareOperator.eq:
        return and_(present, expr == value)
    if op == CompareOperator.ne:
        return not_(and_(present, expr == value))
    if op == CompareOperator.co:
        return and_(present, expr.contains(value, autoescape=True))
    if op == CompareOperator.sw:
        return and_(present, expr.startswith(value, autoescape=True))
    if op == CompareOperator.ew:
        return and_(present, expr.endswith(value, autoescape=True))
    return and_(present, ORDERING[op](expr, value))


def user_filter(node: FilterNode) -> ColumnElement[bool]:
    return _SqlFilter(USER_COLUMNS).visit(node)


def group_filter(node: FilterNode) -> ColumnElement[bool]:
    return _SqlFilter(GROUP_COLUMNS).visit(node)


def sort_column(path: AttrPath, *, groups: bool) -> Any:
    """The ORDER BY expression of ``sortBy``: a single-valued attribute the filter knows."""
    columns = GROUP_COLUMNS if groups else USER_COLUMNS
    column = columns.get(_key(path))
    if column is None or not column.sortable:
        raise _invalid(f"'{path}' cannot be used to sort")
    return func.lower(column.expr) if column.kind == "text" else column.expr


def as_date(moment: datetime | None) -> date | None:
    """A SCIM dateTime as the day the directory keeps (in UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()
