"""Errors of the instruments aggregate."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound


class InstrumentNotFound(NotFound):
    title = "Instrument not found"


class InstrumentVersionNotFound(NotFound):
    title = "Instrument version not found"


class BuiltinInstrumentReadOnly(Forbidden):
    title = "Built-in instruments cannot be changed"


class InstrumentKeyTaken(Conflict):
    title = "Instrument key already used"
