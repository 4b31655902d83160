"""Errors of post-lesson discussions."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound, Unprocessable


class DiscussionNotFound(NotFound):
    code, title = "discussion-not-found", "The post-lesson discussion has not started"


class DiscussionAlreadyStarted(Conflict):
    code, title = "discussion-already-started", "The post-lesson discussion has already started"


class PupilsFirst(Unprocessable):
    """The discussion begins from the case pupils' evidence."""

    code, title = "pupils-first", "Start from the case pupils"
