"""The base of this service's request bodies (instruments, audits, responses)."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from cpd_common.schemas import InputModel


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


class AuditInput(InputModel):
    """Unknown fields are rejected (422), and so is text PostgreSQL cannot store (NUL)."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data
