"""Errors of reflections."""

from __future__ import annotations

from cpd_common.errors import Forbidden, NotFound, Unprocessable


class ReflectionNotFound(NotFound):
    code, title = "reflection-not-found", "Reflection not found"


class ParticipantsOnly(Forbidden):
    code, title = "reflections-participants-only", "Only participants keep reflections on it"


class AuthorOnly(Forbidden):
    code, title = "reflection-author-only", "Only the author changes a reflection"


class InvalidReflection(Unprocessable):
    pass
