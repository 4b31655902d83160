"""Errors of case pupils."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound


class CasePupilNotFound(NotFound):
    code, title = "case-pupil-not-found", "Case pupil not found"


class LabelTaken(Conflict):
    code, title = "case-pupil-label-taken", "Label already used in this study"


class TooManyCasePupils(Conflict):
    code, title = "too-many-case-pupils", "Too many case pupils"


class CasePupilInUse(Conflict):
    code, title = "case-pupil-in-use", "The case pupil is part of the study's record"
