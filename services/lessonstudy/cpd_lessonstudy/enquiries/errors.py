"""Errors of classroom action enquiries."""

from __future__ import annotations

from cpd_common.errors import Conflict, NotFound, Unprocessable


class EnquiryClosed(Conflict):
    code, title = "enquiry-completed", "The enquiry is completed and kept as a record"


class StageRule(Conflict):
    """A component of the enquiry asked for before the one it rests on (e.g. replication
    before analysis)."""

    code, title = "enquiry-stage-rule", "That stage of the enquiry is not reached yet"


class IllegalTransition(Conflict):
    code, title = "illegal-transition", "This step is not possible in the enquiry's current state"


class RecordNotFound(NotFound):
    code, title = "enquiry-record-not-found", "Not found in this enquiry"


class InvalidEnquiry(Unprocessable):
    pass
