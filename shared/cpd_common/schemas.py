"""Base pydantic models: inputs reject unknown fields; outputs read from ORM objects."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class InputModel(BaseModel):
    """Request bodies: an unknown field is a 422, never silently dropped; text holding a NUL
    character (which PostgreSQL cannot store) is a 422, not a 500."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL (\\u0000) characters")
        return data


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


OutputT = TypeVar("OutputT", bound=OutputModel)


class _Overlay:
    """``row``'s attributes, except those ``values`` gives."""

    __slots__ = ("_row", "_values")

    def __init__(self, row: object, values: dict[str, Any]) -> None:
        self._row = row
        self._values = values

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        return getattr(object.__getattribute__(self, "_row"), name)


def from_row(schema: type[OutputT], row: object, /, **values: Any) -> OutputT:
    """``schema`` read from ``row``'s attributes of the same names (an ORM row, say), with
    ``values`` for the fields the row does not hold (computed, renamed, looked up): one place
    instead of copying every column by hand."""
    return schema.model_validate(_Overlay(row, values))
