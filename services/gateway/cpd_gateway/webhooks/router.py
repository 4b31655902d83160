"""``/v1/webhooks``: outbound webhook subscriptions, their secrets and their deliveries."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cpd_common.auth import PrincipalDep
from cpd_common.db import SessionDep
from cpd_common.errors import problems
from cpd_common.http import require_if_match, resource_response
from cpd_common.idempotency import ApiRoute
from cpd_common.pagination import Page, PageDep, paginate
from cpd_gateway.webhooks import schemas, service
from cpd_gateway.webhooks.models import WebhookDelivery, WebhookSubscription

router = APIRouter(prefix="/v1/webhooks", route_class=ApiRoute, tags=["webhooks"])

NOT_FOUND = problems(404, described={404: "Not found (or in another trust, or not yours)"})
PRECONDITIONS = problems(412, 428)
NO_STORE = {"Cache-Control": "no-store"}
WHO = (
    "Trust admins manage every subscription of their trust; an API client manages only its "
    "own (others are 403)."
)


def _loopback(request: Request) -> bool:
    return bool(request.app.state.settings.webhooks_allow_loopback)


@router.get(
    "",
    response_model=Page[schemas.WebhookRead],
    summary="Webhook subscriptions",
    description=WHO,
    responses=problems(403),
)
async def list_webhooks(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Any:
    rows, cursor = await paginate(
        session, service.subscriptions_query(principal=principal), WebhookSubscription.id, page
    )
    return Page[schemas.WebhookRead](
        items=[schemas.WebhookRead.model_validate(r) for r in rows], next_cursor=cursor
    )


@router.post(
    "",
    status_code=201,
    response_model=schemas.WebhookWithSecret,
    summary="Subscribe a URL to events",
    description="An https:// URL (plain http only to loopback, and only in development) whose "
    "host resolves to public addresses only, and the event types wanted (exact types of the "
    "catalogue or `*` patterns). The signing secret is returned here, once. Deliveries follow "
    "the Standard Webhooks specification; the payload is the CloudEvent as published. " + WHO,
    responses=problems(403, 422),
)
async def create_webhook(
    data: schemas.WebhookCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    created, secret = await service.create_subscription(
        session,
        data,
        principal=principal,
        allow_loopback=_loopback(request),
        box=request.app.state.secret_box,
    )
    body = schemas.WebhookWithSecret(
        **schemas.WebhookRead.model_validate(created).model_dump(), secret=secret
    )
    resp = resource_response(body, status_code=201, location=f"/v1/webhooks/{created.id}")
    resp.headers.update(NO_STORE)
    return resp


@router.get("/{webhook_id}", response_model=schemas.WebhookRead, responses=NOT_FOUND)
async def get_webhook(
    webhook_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Response:
    found = await service.get_subscription(session, webhook_id, principal=principal)
    return resource_response(schemas.WebhookRead.model_validate(found))


@router.patch(
    "/{webhook_id}",
    response_model=schemas.WebhookRead,
    summary="Change, pause or resume a subscription",
    description="`status: paused` stops deliveries (events published meanwhile are not kept "
    "for it; pending retries wait); `active` resumes. Requires `If-Match`.",
    responses={**NOT_FOUND, **PRECONDITIONS, **problems(422)},
)
async def update_webhook(
    webhook_id: uuid.UUID,
    data: schemas.WebhookUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    found = await service.get_subscription(session, webhook_id, principal=principal)
    require_if_match(request, schemas.WebhookRead.model_validate(found))
    changed = await service.update_subscription(
        session, found, data, allow_loopback=_loopback(request)
    )
    return resource_response(schemas.WebhookRead.model_validate(changed))


@router.post(
    "/{webhook_id}/secret",
    response_model=schemas.WebhookWithSecret,
    summary="Rotate the signing secret",
    description="Returns the new secret, once; every delivery from now on (retries included) "
    "is signed with it.",
    responses=NOT_FOUND,
)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    found = await service.get_subscription(session, webhook_id, principal=principal)
    secret = await service.rotate_secret(session, found, box=request.app.state.secret_box)
    body = schemas.WebhookWithSecret(
        **schemas.WebhookRead.model_validate(found).model_dump(), secret=secret
    )
    return JSONResponse(body.model_dump(mode="json"), headers=NO_STORE)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a subscription (and its deliveries)",
    description="Requires `If-Match`.",
    responses={**NOT_FOUND, **PRECONDITIONS},
)
async def delete_webhook(
    webhook_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    found = await service.get_subscription(session, webhook_id, principal=principal)
    require_if_match(request, schemas.WebhookRead.model_validate(found))
    await service.delete_subscription(session, found)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[schemas.DeliveryRead],
    summary="Deliveries and their attempts",
    description="Each event sent to the subscription: pending, succeeded or failed, with "
    "every attempt (outcome, response code, latency).",
    responses=NOT_FOUND,
)
async def list_deliveries(
    webhook_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Any:
    found = await service.get_subscription(session, webhook_id, principal=principal)
    rows, cursor = await paginate(
        session, service.deliveries_query(found), WebhookDelivery.id, page
    )
    return Page[schemas.DeliveryRead](
        items=await service.delivery_reads(session, rows), next_cursor=cursor
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    response_model=schemas.DeliveryRead,
    summary="Replay a failed delivery",
    description="Sends it again with the same `webhook-id`, retrying for another 24 hours.",
    responses={**NOT_FOUND, **problems(409)},
)
async def replay_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Any:
    found = await service.get_subscription(session, webhook_id, principal=principal)
    delivery = await service.replay_delivery(session, found, delivery_id)
    [read] = await service.delivery_reads(session, [delivery])
    return read
