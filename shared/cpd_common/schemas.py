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


_ABSENT = object()


def from_row(schema: type[OutputT], row: object, /, **values: Any) -> OutputT:
    """``schema`` read from ``row``'s attributes of the same names (an ORM row, say), with
    ``values`` for the fields the row does not hold (computed, renamed, looked up): one place
    instead of copying every column by hand. A field neither gives keeps its default."""
    data: dict[str, Any] = {}
    for name in schema.model_fields:
        value = values[name] if name in values else getattr(row, name, _ABSENT)
        if value is not _ABSENT:
            data[name] = value
    return schema.model_validate(data, from_attributes=True)
