"""Errors of programmes and their runs."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class ProgrammeNotFound(NotFound):
    code, title = "programme-not-found", "Programme not found"


class RunNotFound(NotFound):
    code, title = "programme-run-not-found", "Programme run not found"


class ProgrammeTitleTaken(Conflict):
    code, title = "programme-title-taken", "Your trust already offers a programme of that title"


class ProgrammeHasRuns(Conflict):
    code, title = "programme-has-runs", "Runs of this programme were published"


class RunCancelled(Conflict):
    code, title = "programme-run-cancelled", "The run is cancelled"


class CannotManageProgrammes(Forbidden):
    code, title = "cannot-manage-programmes", "Only leaders and trust admins manage the offer"


class InvalidProgramme(Unprocessable):
    pass
