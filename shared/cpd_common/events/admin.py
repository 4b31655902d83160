"""Dead letters, visible and replayable: ``/v1/admin/<service>/dead-letters`` on every
consuming service (routed by the gateway). Trust admins see their trust's dead letters."""

from __future__ import annotations

import importlib
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy import text

from cpd_common.auth import Principal, require_roles
from cpd_common.db import SessionDep
from cpd_common.errors import Conflict, NotFound
from cpd_common.events.inbox import Subscription, replay_dead_letter
from cpd_common.schemas import OutputModel

AdminDep = Annotated[Principal, Depends(require_roles("trust_admin"))]


class DeadLetterRead(OutputModel):
    id: uuid.UUID
    consumer: str
    event_id: str | None
    event_type: str | None
    subject: str
    error: str
    deliveries: int
    created_at: datetime
    replayed_at: datetime | None
    body: str


class DeadLetterPage(OutputModel):
    items: list[DeadLetterRead]


class ReplayResult(OutputModel):
    id: uuid.UUID
    outcome: str


def _subscriptions(service: str) -> dict[str, Subscription]:
    worker = importlib.import_module(f"cpd_{service}.worker")
    return {s.durable: s for s in worker.subscriptions()}


def dead_letters_router(service: str) -> APIRouter:
    router = APIRouter(prefix=f"/v1/admin/{service}/dead-letters", tags=["admin"])

    @router.get(
        "",
        response_model=DeadLetterPage,
        summary=f"Events the {service} service could not handle",
        description="Each entry holds the event, the last error and how often it was tried.",
    )
    async def list_dead_letters(
        session: SessionDep,
        principal: AdminDep,
        include_replayed: Annotated[bool, Query()] = False,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Any:
        rows = (
            await session.execute(
                text(
                    "SELECT * FROM dead_letters WHERE trust_id = :trust"
                    + ("" if include_replayed else " AND replayed_at IS NULL")
                    + " ORDER BY id LIMIT :limit"
                ),
                {"trust": principal.trust_id, "limit": limit},
            )
        ).mappings()
        return DeadLetterPage(items=[DeadLetterRead.model_validate(dict(r)) for r in rows])

    @router.post(
        "/{dead_letter_id}/replay",
        response_model=ReplayResult,
        summary="Handle a dead-lettered event again",
        description="Runs the handler once more (after the cause was fixed). An event handled "
        "meanwhile is not handled twice.",
    )
    async def replay(
        dead_letter_id: uuid.UUID, request: Request, session: SessionDep, principal: AdminDep
    ) -> Any:
        row = (
            await session.execute(
                text(
                    "SELECT consumer, body, replayed_at FROM dead_letters "
                    "WHERE id = :id AND trust_id = :trust FOR UPDATE"
                ),
                {"id": dead_letter_id, "trust": principal.trust_id},
            )
        ).first()
        if row is None:
            raise NotFound("No such dead letter.")
        if row.replayed_at is not None:
            raise Conflict("This dead letter was already replayed.")
        sub = _subscriptions(service).get(row.consumer)
        if sub is None:
            raise Conflict(f"No consumer {row.consumer} runs in this service any more.")
        try:
            handled = await replay_dead_letter(session, sub, row.body)
        except (ValueError, ValidationError) as exc:
            raise Conflict(f"The event is malformed and cannot be replayed: {exc}") from exc
        await session.execute(
            text("UPDATE dead_letters SET replayed_at = now() WHERE id = :id"),
            {"id": dead_letter_id},
        )
        return ReplayResult(id=dead_letter_id, outcome="handled" if handled else "already handled")

    return router
