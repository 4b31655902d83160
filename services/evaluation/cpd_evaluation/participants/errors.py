"""Errors of participants and attendance."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class ParticipantNotFound(NotFound):
    code, title = "participant-not-found", "Participant not found"


class AlreadyParticipating(Conflict):
    code, title = "already-participating", "The person already takes part in this activity"


class OwnParticipationOnly(Forbidden):
    code, title = "own-participation-only", "You can only change your own participation"


class InvalidParticipation(Unprocessable):
    pass
