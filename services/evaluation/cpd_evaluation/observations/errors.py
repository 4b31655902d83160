"""Errors of observation uploads."""

from __future__ import annotations

from cpd_common.errors import Conflict, ProblemError, Unprocessable


class InvalidUpload(Unprocessable):
    code, title = "invalid-observations", "The observations cannot be stored"


class ObservationsExist(Conflict):
    code, title = "observations-exist", "Some subjects already have a value at this phase"


class UnsupportedUpload(ProblemError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class UploadTooLarge(ProblemError):
    status, code, title = 413, "payload-too-large", "Payload too large"
