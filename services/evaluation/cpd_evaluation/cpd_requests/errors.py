"""Errors of CPD requests."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class RequestNotFound(NotFound):
    code, title = "cpd-request-not-found", "Request not found"


class RequestAlreadyOpen(Conflict):
    code, title = "cpd-request-already-open", "You already asked for a place on this run"


class RequestNotOpen(Conflict):
    code, title = "cpd-request-not-open", "The request is no longer open to that"


class RunFull(Conflict):
    code, title = "programme-run-full", "Every place on the run is booked"


class CannotDecide(Forbidden):
    code, title = "cannot-decide-request", "You do not decide this request"


class CannotRequest(Forbidden):
    code, title = "cannot-request", "Only members of staff ask for CPD"


class InvalidRequest(Unprocessable):
    pass
