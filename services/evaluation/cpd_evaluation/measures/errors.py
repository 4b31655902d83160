"""Errors of the measure aggregate."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound, Unprocessable


class MeasureNotFound(NotFound):
    code, title = "measure-not-found", "Measure not found"


class MeasureNameTaken(Conflict):
    code, title = "measure-name-taken", "The plan already has a measure of this name"


class MeasureHasObservations(Conflict):
    code, title = "measure-has-observations", "The measure already holds observations"


class InvalidMeasure(Unprocessable):
    pass
