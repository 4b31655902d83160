"""The base of every request body of the service."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from cpd_common.schemas import InputModel


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Input(InputModel):
    """An input model that refuses NUL characters (PostgreSQL text cannot store them): a 422,
    not a database error."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data
