"""Errors of observations."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound


class ObservationNotFound(NotFound):
    code, title = "observation-not-found", "Observation not found"


class CellAlreadyObserved(Conflict):
    code, title = "cell-already-observed", "You already recorded this stage and case pupil"


class TeacherCannotObserve(Forbidden):
    code, title = "teacher-cannot-observe", "The lesson's teacher does not observe it"


class NotYourObservation(Forbidden):
    code, title = "not-your-observation", "Only the observer who recorded it can change it"
