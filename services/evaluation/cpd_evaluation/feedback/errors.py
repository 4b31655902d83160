"""Errors of participant feedback."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class FeedbackNotFound(NotFound):
    code, title = "feedback-not-found", "You have not given feedback on this activity"


class ParticipantsOnly(Forbidden):
    code, title = "participants-only", "Only the activity's participants give feedback"


class AlreadyGiven(Conflict):
    code, title = "feedback-already-given", "You already gave feedback on this activity"


class FeedbackClosed(Conflict):
    code, title = "feedback-closed", "The activity's feedback window is closed"


class InvalidWindow(Unprocessable):
    pass
