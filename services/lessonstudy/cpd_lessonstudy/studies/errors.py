"""Errors of the lesson study aggregate."""

from __future__ import annotations

from cpd_common.errors import Conflict, Forbidden, NotFound, Unprocessable


class StudyNotFound(NotFound):
    code, title = "lesson-study-not-found", "Lesson study not found"


class MembersOnly(Forbidden):
    code, title = "lesson-study-members-only", "Only members of the lesson study can change it"


class CannotCreateStudy(Forbidden):
    code, title = "cannot-create-lesson-study", "You cannot create a lesson study"


class IllegalTransition(Conflict):
    code, title = "illegal-transition", "This step is not possible in the study's current state"


class StudyClosed(Conflict):
    code, title = "lesson-study-closed", "The lesson study is completed and kept as a record"


class InvalidStudy(Unprocessable):
    pass
