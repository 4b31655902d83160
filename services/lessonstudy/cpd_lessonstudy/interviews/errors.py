"""Errors of pupil interviews."""

from __future__ import annotations

from cpd_common.errors import Forbidden, NotFound


class InterviewNotFound(NotFound):
    code, title = "interview-not-found", "Pupil interview not found"


class NotYourInterview(Forbidden):
    code, title = "not-your-interview", "Only the member who interviewed can change the notes"
