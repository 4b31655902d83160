"""Errors of research lessons and their predictions."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound, Unprocessable


class LessonNotFound(NotFound):
    code, title = "research-lesson-not-found", "Research lesson not found"


class LessonOutOfOrder(Conflict):
    code, title = "research-lesson-out-of-order", "Not possible at this point of the cycle"


class PredictionsMissing(Conflict):
    code, title = "predictions-missing", "Predictions must come before teaching"


class DiscussionUnfinished(Conflict):
    code, title = "discussion-unfinished", "The post-lesson discussion is not finished"


class InvalidLesson(Unprocessable):
    pass
