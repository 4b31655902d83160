"""Outbound webhooks against a real receiver on a local port: Standard Webhooks signatures
checked by an independent implementation, retries with the same webhook-id until success,
order per aggregate, one trust's events only, QA clients without person-level events, refused
addresses, pause, rotation and replay."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select, text

from cpd_common.db import utcnow
from cpd_demo.trust import DEMO_CREDENTIALS, NORTHFIELD, OAKRIDGE, RIVERSIDE_HIGH
from cpd_gateway.secret_box import SecretBox
from cpd_gateway.webhooks import addresses, delivery
from cpd_gateway.webhooks.models import WebhookDelivery, WebhookSubscription
from cpd_local.stack import DEV_SECRETS_KEY, Stack, start_stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
LEADER = DEMO_CREDENTIALS["school leader (Northfield)"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
BOX = SecretBox(DEV_SECRETS_KEY)  # the stack's (cpd_local's development key)


def verify(secret: str, headers: Any, body: bytes) -> bool:
    """The specification's check, written here apart from the platform's signing code:
    HMAC-SHA256 keyed by the base64 part of ``whsec_...`` over ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1) for s in headers["webhook-signature"].split(" ")]
    return any(v == "v1" and hmac.compare_digest(sig, expected) for v, sig in offered)


@dataclass
class Receiver:
    """Records every request; answers 500 to the first ``fail_first`` of them."""

    url: str = ""
    fail_first: int = 0
    always_fail: bool = False
    seen: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        failing = self.always_fail or len(self.seen) < self.fail_first
        status = 500 if failing else 204
        self.seen.append(({k.lower(): v for k, v in request.headers.items()}, body, status))
        return web.Response(status=status)

    def accepted(self) -> list[dict[str, Any]]:
        return [json.loads(b) for _, b, status in self.seen if status < 300]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()


@pytest.fixture
async def dev(pg_server, nats_clean, demo_specs) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    """The gateway alone, in development mode: loopback receivers allowed."""
    gateway_only = [s for s in demo_specs if s.name == "gateway"]
    async with start_stack(
        pg_server, nats_clean, gateway_only, gateway_settings={"webhooks_allow_loopback": True}
    ) as running:
        yield running


async def subscribe(
    stack: Stack, headers: dict[str, str], url: str, types: list[str], *, expect: int = 201
) -> dict[str, Any]:
    resp = await stack.gateway.post(
        "/v1/webhooks", headers=headers, json={"url": url, "event_types": types}
    )
    assert resp.status_code == expect, resp.text
    return dict(resp.json())


async def new_person(stack: Stack, headers: dict[str, str], school: uuid.UUID, name: str) -> str:
    resp = await stack.gateway.post(
        "/v1/people",
        headers=headers,
        json={
            "name": name,
            "email": f"hook-{uuid.uuid4().hex[:8]}@example.org",
            "school_ids": [str(school)],
            "staff_group": "teacher",
            "department": "KS2",
            "career_stage": "ect",
            "fte": 1.0,
            "start_date": "2025-09-01",
            "roles": ["staff"],
        },
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def rename(stack: Stack, headers: dict[str, str], person: str, name: str) -> None:
    got = await stack.gateway.get(f"/v1/people/{person}", headers=headers)
    resp = await stack.gateway.patch(
        f"/v1/people/{person}",
        headers={**headers, "If-Match": got.headers["etag"]},
        json={"name": name},
    )
    assert resp.status_code == 200, resp.text


async def stored_secret(stack: Stack, hook_id: str) -> str:
    """The subscription's secret as the database holds it: encrypted, never in clear."""
    async with stack.session("gateway") as session:
        stored = await session.scalar(
            select(WebhookSubscription.secret_encrypted).where(
                WebhookSubscription.id == uuid.UUID(hook_id)
            )
        )
    assert stored is not None and "whsec_" not in stored
    return BOX.open(stored)


async def deliver_until_done(stack: Stack, *, start: datetime, rounds: int = 30) -> datetime:
    """Runs the worker's delivery rounds, an hour apart in the deliveries' clock, until none
    is pending; returns the clock."""
    now = start
    for _ in range(rounds):
        async with stack.session("gateway") as session, session.begin():
            await delivery.deliver_due(session, box=BOX, allow_loopback=True, now=now)
            pending = await session.scalar(
                select(WebhookDelivery.id).where(WebhookDelivery.status == "pending").limit(1)
            )
        if pending is None:
            return now
        now += timedelta(hours=1)
    raise AssertionError("deliveries still pending")


async def test_a_failing_receiver_gets_every_event_once_in_order_and_signed(
    dev: Stack, receiver: Receiver
) -> None:
    admin = await dev.auth(*ADMIN)
    riverside = await dev.auth(*RIVERSIDE_ADMIN)
    hook = await subscribe(dev, admin, receiver.url, ["cpd.directory.person.*"])
    assert hook["secret"].startswith("whsec_") and hook["status"] == "active"
    # The secret is shown once: reads never carry it.
    got = await dev.gateway.get(f"/v1/webhooks/{hook['id']}", headers=admin)
    assert "secret" not in got.json()
    assert await stored_secret(dev, hook["id"]) == hook["secret"]

    receiver.fail_first = 3
    person = await new_person(dev, admin, NORTHFIELD, "Hana Hook")
    await rename(dev, admin, person, "Hana Hook-Smith")
    other = await new_person(dev, admin, NORTHFIELD, "Omar Other")
    await new_person(dev, riverside, RIVERSIDE_HIGH, "Rita Riverside")  # another trust
    await dev.settle()
    await deliver_until_done(dev, start=utcnow())

    # Every request is signed per the specification; a retry carries the same webhook-id.
    assert all(verify(hook["secret"], h, b) for h, b, _ in receiver.seen)
    assert len(receiver.seen) == 3 + 3
    assert [s for *_, s in receiver.seen].count(500) == 3
    accepted = receiver.accepted()
    ids = [e["id"] for e in accepted]
    assert len(ids) == len(set(ids)) == 3  # each event once in effect
    assert {h["webhook-id"] for h, *_ in receiver.seen} == set(ids)
    for headers, body, _ in receiver.seen:
        assert json.loads(body)["id"] == headers["webhook-id"]
    # The payload is the CloudEvent as published, of this trust only.
    assert {e["trustid"] for e in accepted} == {str(OAKRIDGE)}
    assert all(e["type"] == "cpd.directory.person.upserted.v1" for e in accepted)
    names = [e["data"]["name"] for e in accepted if e["subject"] == person]
    assert names == ["Hana Hook", "Hana Hook-Smith"]
    # The rename was never posted before the creation had been accepted.
    first_ok = next(
        i for i, (h, _, s) in enumerate(receiver.seen) if s < 300 and h["webhook-id"] == ids[0]
    )
    rename_id = next(e["id"] for e in accepted if e["data"]["name"] == "Hana Hook-Smith")
    assert all(
        i > first_ok for i, (h, *_) in enumerate(receiver.seen) if h["webhook-id"] == rename_id
    )
    assert other in {e["subject"] for e in accepted}

    # The deliveries and their attempts are listed.
    listed = (await dev.gateway.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    assert {d["event_id"] for d in listed["items"]} == set(ids)
    assert all(d["status"] == "succeeded" for d in listed["items"])
    tries = [t for d in listed["items"] for t in d["tries"]]
    assert sorted(t["status_code"] for t in tries) == [204, 204, 204, 500, 500, 500]
    assert all(t["latency_ms"] >= 0 for t in tries)
    # Riverside cannot see (or touch) Oakridge's subscription.
    assert (
        await dev.gateway.get(f"/v1/webhooks/{hook['id']}", headers=riverside)
    ).status_code == 404
    # A school leader does not manage webhooks.
    leader = await dev.auth(*LEADER)
    assert (await dev.gateway.get("/v1/webhooks", headers=leader)).status_code == 403


async def test_private_addresses_and_unknown_types_are_refused(seeded: Stack) -> None:
    admin = await seeded.auth(*ADMIN)
    for url in (
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "https://127.0.0.1/hook",  # loopback outside development
        "http://127.0.0.1:9/hook",
        "https://localhost/hook",
        "http://example.org/hook",  # plain http
        "https://user:pw@example.org/hook",
        "ftp://example.org/hook",
    ):
        resp = await seeded.gateway.post(
            "/v1/webhooks", headers=admin, json={"url": url, "event_types": ["*"]}
        )
        assert resp.status_code == 422, (url, resp.text)
        assert resp.json()["errors"][0]["loc"] == "body.url"
    resp = await seeded.gateway.post(
        "/v1/webhooks",
        headers=admin,
        json={"url": "https://10.0.0.1/hook", "event_types": ["cpd.nothing.*", "*"]},
    )
    assert resp.status_code == 422
    assert resp.json()["errors"] == [{"loc": "body.event_types", "msg": "unknown: cpd.nothing.*"}]
    listed = await seeded.gateway.get("/v1/webhooks", headers=admin)
    assert listed.json()["items"] == []


async def test_delivery_rechecks_the_address(dev: Stack, receiver: Receiver) -> None:
    """Saved while loopback was allowed; a worker that does not allow it refuses to post (the
    URL's plain http to loopback is refused before any connection) and records why. A name
    rebound to an internal address: the next test and test_webhook_pinning.py."""
    admin = await dev.auth(*ADMIN)
    hook = await subscribe(dev, admin, receiver.url, ["cpd.directory.*"])
    await new_person(dev, admin, NORTHFIELD, "Rebind Ray")
    await dev.settle()
    async with dev.session("gateway") as session, session.begin():
        assert await delivery.deliver_due(session, box=BOX, allow_loopback=False) == 1
    assert receiver.seen == []
    listed = (await dev.gateway.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    [item] = listed["items"]
    assert item["status"] == "pending" and item["tries"][0]["outcome"] == "refused"
    assert "loopback" in item["tries"][0]["error"]


async def test_a_host_rebound_to_a_private_address_is_refused_and_recorded(
    dev: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The subscription's name answered a public address when it was saved and a private one
    by the time of the delivery (DNS rebinding, played by replacing the one resolution
    function): the worker's pinned connection resolves it, refuses it and connects nowhere;
    each attempt is recorded as refused with the address, retried until the delivery gives
    up after 24 hours like any failure."""
    name = "hooks.rebind.example"
    answers = {name: ["93.184.215.14"]}
    real_lookup = addresses.lookup

    async def rebinding(host: str, port: int) -> list[str]:
        return answers[host] if host in answers else await real_lookup(host, port)

    monkeypatch.setattr(addresses, "lookup", rebinding)
    admin = await dev.auth(*ADMIN)
    hook = await subscribe(dev, admin, f"https://{name}/hook", ["cpd.directory.*"])
    answers[name] = ["10.20.30.40"]
    await new_person(dev, admin, NORTHFIELD, "Rebound Rosa")
    await dev.settle()
    now = utcnow()
    for _ in range(30):
        async with dev.session("gateway") as session, session.begin():
            await delivery.deliver_due(session, box=BOX, allow_loopback=True, now=now)
        now += timedelta(hours=1)
    listed = (await dev.gateway.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    [item] = listed["items"]
    assert item["status"] == "failed" and item["attempts"] >= 5
    assert {t["outcome"] for t in item["tries"]} == {"refused"}
    assert {t["error"] for t in item["tries"]} == {
        f"{name} resolves to a private or reserved address (10.20.30.40)"
    }
    assert all(t["status_code"] is None for t in item["tries"])


async def test_qa_client_gets_no_person_level_events_and_only_its_own_hooks(
    dev: Stack, receiver: Receiver
) -> None:
    admin = await dev.auth(*ADMIN)
    made = await dev.gateway.post(
        "/v1/clients", headers=admin, json={"name": "QA body", "roles": ["qa_reader"]}
    )
    assert made.status_code == 201, made.text
    token = await dev.client_token(made.json()["client_id"], made.json()["client_secret"])
    qa = {"Authorization": f"Bearer {token}"}
    hook = await subscribe(dev, qa, receiver.url, ["*"])
    assert hook["owner_client_id"] == made.json()["client_id"]
    admins_own = await subscribe(dev, admin, receiver.url, ["cpd.directory.school.*"])
    listed = (await dev.gateway.get("/v1/webhooks", headers=qa)).json()
    assert [w["id"] for w in listed["items"]] == [hook["id"]]
    assert (
        await dev.gateway.get(f"/v1/webhooks/{admins_own['id']}", headers=qa)
    ).status_code == 404

    await new_person(dev, admin, NORTHFIELD, "Private Pat")
    got = await dev.gateway.get(f"/v1/schools/{NORTHFIELD}", headers=admin)
    resp = await dev.gateway.patch(
        f"/v1/schools/{NORTHFIELD}",
        headers={**admin, "If-Match": got.headers["etag"]},
        json={"name": "Northfield Primary Academy"},
    )
    assert resp.status_code == 200, resp.text
    await dev.settle()
    await deliver_until_done(dev, start=utcnow())
    by_hook: dict[str, list[str]] = {}
    secrets = {hook["secret"]: hook["id"], admins_own["secret"]: admins_own["id"]}
    for headers, body, _ in receiver.seen:
        owner = next(s for s in secrets if verify(s, headers, body))
        by_hook.setdefault(secrets[owner], []).append(json.loads(body)["type"])
    assert by_hook[hook["id"]] == ["cpd.directory.school.upserted.v1"]
    assert by_hook[admins_own["id"]] == ["cpd.directory.school.upserted.v1"]


async def test_pause_rotate_replay_and_delete(dev: Stack, receiver: Receiver) -> None:
    admin = await dev.auth(*ADMIN)
    hook = await subscribe(dev, admin, receiver.url, ["cpd.directory.person.upserted.v1"])
    url = f"/v1/webhooks/{hook['id']}"

    # Paused: events published meanwhile are not kept for it.
    got = await dev.gateway.get(url, headers=admin)
    paused = await dev.gateway.patch(
        url, headers={**admin, "If-Match": got.headers["etag"]}, json={"status": "paused"}
    )
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    await new_person(dev, admin, NORTHFIELD, "Quiet Quinn")
    await dev.settle()
    got = await dev.gateway.get(url, headers=admin)
    resumed = await dev.gateway.patch(
        url, headers={**admin, "If-Match": got.headers["etag"]}, json={"status": "active"}
    )
    assert resumed.status_code == 200

    rotated = await dev.gateway.post(f"{url}/secret", headers=admin)
    assert rotated.status_code == 200 and rotated.json()["secret"] != hook["secret"]
    secret = rotated.json()["secret"]
    assert await stored_secret(dev, hook["id"]) == secret

    # A receiver that never answers well: retried for 24 hours, then failed.
    receiver.always_fail = True
    await new_person(dev, admin, NORTHFIELD, "Loud Lee")
    await dev.settle()
    now = utcnow()
    for _ in range(40):
        async with dev.session("gateway") as session, session.begin():
            await delivery.deliver_due(session, box=BOX, allow_loopback=True, now=now)
        now += timedelta(hours=1)
    [failed] = (await dev.gateway.get(f"{url}/deliveries", headers=admin)).json()["items"]
    assert failed["status"] == "failed" and failed["attempts"] >= 5
    assert len({h["webhook-id"] for h, *_ in receiver.seen}) == 1
    assert all(verify(secret, h, b) for h, b, _ in receiver.seen)
    sent_before = len(receiver.seen)

    # Replayed: the same webhook-id again, accepted this time; a second replay is 409.
    receiver.always_fail = False
    replay = await dev.gateway.post(f"{url}/deliveries/{failed['id']}/replay", headers=admin)
    assert replay.status_code == 200 and replay.json()["status"] == "pending", replay.text
    await deliver_until_done(dev, start=utcnow())
    assert receiver.seen[-1][0]["webhook-id"] == failed["event_id"]
    assert receiver.seen[-1][2] == 204 and len(receiver.seen) == sent_before + 1
    again = await dev.gateway.post(f"{url}/deliveries/{failed['id']}/replay", headers=admin)
    assert again.status_code == 409

    # Finished deliveries are forgotten after 30 days.
    async with dev.session("gateway") as session, session.begin():
        await delivery.prune_finished(session, now=utcnow() + timedelta(days=29))
    assert len((await dev.gateway.get(f"{url}/deliveries", headers=admin)).json()["items"]) == 1
    async with dev.session("gateway") as session, session.begin():
        await delivery.prune_finished(session, now=utcnow() + timedelta(days=31))
    assert (await dev.gateway.get(f"{url}/deliveries", headers=admin)).json()["items"] == []

    got = await dev.gateway.get(url, headers=admin)
    assert (await dev.gateway.delete(url, headers=admin)).status_code == 428
    deleted = await dev.gateway.delete(url, headers={**admin, "If-Match": got.headers["etag"]})
    assert deleted.status_code == 204
    assert (await dev.gateway.get(url, headers=admin)).status_code == 404


async def _rename_school(
    stack: Stack, headers: dict[str, str], school: uuid.UUID, name: str
) -> None:
    got = await stack.gateway.get(f"/v1/schools/{school}", headers=headers)
    resp = await stack.gateway.patch(
        f"/v1/schools/{school}",
        headers={**headers, "If-Match": got.headers["etag"]},
        json={"name": name},
    )
    assert resp.status_code == 200, resp.text


async def test_fan_out_skips_events_no_subscription_wants_and_still_delivers_the_wanted(
    dev: Stack, receiver: Receiver
) -> None:
    """The fan-out checks each fetched batch once: events of a trust without a subscription,
    of types no subscription names, or older than the subscription are acked with no inbox
    row; the event the trust's subscription wants is delivered (and recorded) once."""
    admin = await dev.auth(*ADMIN)
    riverside = await dev.auth(*RIVERSIDE_ADMIN)
    hook = await subscribe(dev, admin, receiver.url, ["cpd.directory.school.*"])
    await new_person(dev, admin, NORTHFIELD, "Unwatched Una")  # a type nobody subscribed to
    await _rename_school(dev, riverside, RIVERSIDE_HIGH, "Riverside High (renamed)")
    await _rename_school(dev, admin, NORTHFIELD, "Northfield Primary (renamed)")
    await dev.settle()
    await deliver_until_done(dev, start=utcnow())
    assert [json.loads(b)["data"]["name"] for _, b, _ in receiver.seen] == [
        "Northfield Primary (renamed)"
    ]
    async with dev.session("gateway") as session:
        handled = (
            await session.scalars(
                text("SELECT event_type FROM inbox WHERE consumer = 'gateway-webhooks'")
            )
        ).all()
        deliveries = (await session.scalars(select(WebhookDelivery.subscription_id))).all()
    assert handled == ["cpd.directory.school.upserted.v1"]
    assert [str(d) for d in deliveries] == [hook["id"]]
