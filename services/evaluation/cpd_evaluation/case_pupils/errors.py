"""Errors of a plan's lesson studies."""

from __future__ import annotations

from cpd_common.errors import Unprocessable


class InvalidLessonStudies(Unprocessable):
    code, title = "invalid-lesson-studies", "These lesson studies cannot be linked"
