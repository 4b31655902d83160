"""Errors of the needs register."""

from __future__ import annotations

import uuid

from cpd_common.errors import Conflict, NotFound


class NeedNotFound(NotFound):
    title = "Need not found"


class SuggestionAlreadyAccepted(Conflict):
    title = "Suggested need already accepted"

    def __init__(self, need_id: uuid.UUID, status: str) -> None:
        reopen = " It was dropped: change its status to reopen it." if status == "dropped" else ""
        super().__init__(
            f"This suggestion was already accepted for this school and team as need {need_id}."
            + reopen,
            extensions={"need_id": str(need_id)},
        )
