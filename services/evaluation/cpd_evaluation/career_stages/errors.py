"""Errors of the progression ladder."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound


class CareerStageNotFound(NotFound):
    code, title = "career-stage-not-found", "Career stage not found"


class CareerStageKeyTaken(Conflict):
    code, title = "career-stage-key-taken", "Your trust's ladder already has that key"


class CareerStageInUse(Conflict):
    code, title = "career-stage-in-use", "Programmes are offered to this career stage"


class CannotEditLadder(Forbidden):
    code, title = "cannot-edit-ladder", "Only trust admins edit the progression ladder"
