"""Errors of coaching agreements and learning logs."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class CoachingLogNotFound(NotFound):
    """Also the answer to anyone but the coach and the coachee: the log is theirs alone."""

    code, title = "coaching-log-not-found", "Coaching agreement or log entry not found"


class NotCoaching(Conflict):
    code, title = "not-coaching", "Only coaching, mentoring and peer coaching keep a learning log"


class AgreementExists(Conflict):
    code, title = "coaching-agreement-exists", "The activity already has its coaching agreement"


class PairOnly(Forbidden):
    code, title = "coaching-pair-only", "The coach or the coachee makes the agreement"


class InvalidCoaching(Unprocessable):
    pass
