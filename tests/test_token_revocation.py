"""Revocation is immediate: tokens of erased, deactivated or demoted people and of revoked API
clients stop working at the gateway at once, and at every service as soon as it has handled the
directory event, reads and writes alike; nothing written with such a token survives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from cpd_common import revocation
from cpd_common.events.inbox import drain
from cpd_common.testing.waiting import wait_for
from cpd_local.stack import Stack

ADMIN = ("admin@oakridge.example", "oakridge-admin-2026")
DOMAIN_SERVICES = ("audit", "lessonstudy", "evaluation")
PASSWORD = "temporary-admin-2026"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _school_id(stack: Stack, headers: dict[str, str]) -> str:
    resp = await stack.gateway.get("/v1/schools", headers=headers)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["items"][0]["id"])


async def _new_admin(stack: Stack, admin: dict[str, str], school_id: str) -> tuple[str, str, str]:
    """A second trust admin with a login; returns (person id, email, token)."""
    email = f"temp-admin-{uuid.uuid4().hex[:6]}@oakridge.example"
    resp = await stack.gateway.post(
        "/v1/people",
        headers=admin,
        json={
            "name": "Temporary Admin",
            "email": email,
            "school_ids": [school_id],
            "roles": ["trust_admin", "school_leader", "staff"],
            "password": PASSWORD,
        },
    )
    assert resp.status_code == 201, resp.text
    await stack.settle()
    return str(resp.json()["id"]), email, await stack.token(email, PASSWORD)


async def _statuses(stack: Stack, token: str) -> dict[str, int]:
    """What one token gets: at the gateway itself, through the gateway to each service, and
    directly at each service (zero trust behind the gateway)."""
    headers = _bearer(token)
    out = {"gateway": (await stack.gateway.get("/v1/trusts", headers=headers)).status_code}
    for name in DOMAIN_SERVICES:
        path = f"/v1/admin/{name}/dead-letters"
        out[f"via-gateway:{name}"] = (await stack.gateway.get(path, headers=headers)).status_code
        direct = stack.services[name].client
        out[f"direct:{name}"] = (await direct.get(path, headers=headers)).status_code
    return out


def _all(status: int) -> dict[str, int]:
    keys = ["gateway"]
    for name in DOMAIN_SERVICES:
        keys += [f"via-gateway:{name}", f"direct:{name}"]
    return dict.fromkeys(keys, status)


async def _patch_person(stack: Stack, admin: dict[str, str], person_id: str, **body: Any) -> None:
    got = await stack.gateway.get(f"/v1/people/{person_id}", headers=admin)
    assert got.status_code == 200, got.text
    resp = await stack.gateway.patch(
        f"/v1/people/{person_id}",
        headers={**admin, "If-Match": got.headers["etag"]},
        json=body,
    )
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("change", ["erase", "deactivate", "demote"])
async def test_person_tokens_stop_at_once_everywhere(demo: Stack, change: str) -> None:
    admin = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, admin)
    person_id, email, token = await _new_admin(demo, admin, school_id)
    assert await _statuses(demo, token) == _all(200)

    if change == "erase":
        resp = await demo.gateway.post(f"/v1/people/{person_id}/erase", headers=admin)
        assert resp.status_code == 202, resp.text
    elif change == "deactivate":
        await _patch_person(demo, admin, person_id, active=False)
    else:
        await _patch_person(demo, admin, person_id, roles=["staff"])

    # The gateway checks its own directory: refused before any event has travelled.
    gateway_now = await _statuses(demo, token)
    assert gateway_now["gateway"] == 401
    assert all(gateway_now[f"via-gateway:{name}"] == 401 for name in DOMAIN_SERVICES)

    await demo.settle()
    assert await _statuses(demo, token) == _all(401)
    refused = await demo.services["audit"].client.get(
        "/v1/admin/audit/dead-letters", headers=_bearer(token)
    )
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 401

    if change == "demote":
        # Signing in again gives a token with what is left: a member of staff, no admin.
        fresh = await demo.token(email, PASSWORD)
        statuses = await _statuses(demo, fresh)
        assert statuses["gateway"] == 200
        assert {k: v for k, v in statuses.items() if k != "gateway"} == {
            k: 403 for k in statuses if k != "gateway"
        }
    else:
        resp = await demo.gateway.post(
            "/auth/token",
            data={"grant_type": "password", "username": email, "password": PASSWORD},
        )
        assert resp.status_code == 401


async def test_school_taken_away_refuses_tokens_naming_it(demo: Stack) -> None:
    admin = await demo.auth(*ADMIN)
    schools = (await demo.gateway.get("/v1/schools", headers=admin)).json()["items"]
    first, second = str(schools[0]["id"]), str(schools[1]["id"])
    person_id, email, _ = await _new_admin(demo, admin, first)
    await _patch_person(demo, admin, person_id, school_ids=[first, second])
    await demo.settle()
    token = await demo.token(email, PASSWORD)
    assert (await _statuses(demo, token)) == _all(200)
    await _patch_person(demo, admin, person_id, school_ids=[first])
    await demo.settle()
    assert (await _statuses(demo, token)) == _all(401)
    assert (await _statuses(demo, await demo.token(email, PASSWORD))) == _all(200)


async def test_revoked_client_tokens_stop_everywhere(demo: Stack) -> None:
    admin = await demo.auth(*ADMIN)
    created = await demo.gateway.post(
        "/v1/clients",
        headers=admin,
        json={"name": "QA body", "roles": ["qa_reader"], "scopes": ["metrics:read"]},
    )
    assert created.status_code == 201, created.text
    client = created.json()
    token = await demo.client_token(client["client_id"], client["client_secret"])
    before = await _statuses(demo, token)
    assert 401 not in before.values(), before  # a QA reader: 403 or 404, never unauthenticated

    etag = (await demo.gateway.get(f"/v1/clients/{client['id']}", headers=admin)).headers["etag"]
    resp = await demo.gateway.delete(
        f"/v1/clients/{client['id']}", headers={**admin, "If-Match": etag}
    )
    assert resp.status_code == 204, resp.text
    assert (await _statuses(demo, token))["gateway"] == 401
    await demo.settle()
    assert await _statuses(demo, token) == _all(401)
    for name in DOMAIN_SERVICES:
        async with demo.session(name) as session:
            active = await session.scalar(
                text("SELECT active FROM token_revocations WHERE subject = :s"),
                {"s": f"client:{client['client_id']}"},
            )
        assert active is False, name


@pytest.mark.parametrize("change", ["erase", "demote"])
async def test_write_with_a_revoked_token_never_lands(demo: Stack, change: str) -> None:
    """A replica that has not yet heard of the change still refuses the write: the check is
    made again inside the write's own transaction, under the subject's lock."""
    admin = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, admin)
    person_id, _, token = await _new_admin(demo, admin, school_id)
    if change == "erase":
        resp = await demo.gateway.post(f"/v1/people/{person_id}/erase", headers=admin)
        assert resp.status_code == 202
    else:
        await _patch_person(demo, admin, person_id, roles=["school_leader", "staff"])
    await demo.settle()

    subject = revocation.subject_of_person(uuid.UUID(person_id))
    need = {
        "school_id": school_id,
        "level": "whole_school",
        "title": "Written after erasure",
        "need_types": ["knowledge"],
    }
    study = {
        "title": "Written after erasure",
        "school_ids": [school_id],
        "learning_goal": "Pupils explain their reasoning.",
    }
    for name, path, body, table in (
        ("audit", "/v1/needs", need, "needs"),
        ("lessonstudy", "/v1/lesson-studies", study, "lesson_studies"),
    ):
        svc = demo.services[name]
        # As if this replica's cache had not caught up yet.
        svc.app.state.revocations.grants.pop(subject, None)
        resp = await svc.client.post(path, headers=_bearer(token), json=body)
        if change == "erase" and name == "lessonstudy":
            # Lesson study names its creator, whom erasure removed from its projection.
            assert resp.status_code in (401, 422), resp.text
        else:
            assert resp.status_code == 401, (name, resp.text)
        async with demo.session(name) as session:
            stored = await session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE title = 'Written after erasure'")
            )
        assert stored == 0, name


async def test_api_processes_hear_revocations_without_being_told(demo: Stack) -> None:
    """No reload by the test: each service's worker handles the event and the API process
    learns it from the table's NOTIFY."""
    admin = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, admin)
    person_id, _, token = await _new_admin(demo, admin, school_id)
    await _patch_person(demo, admin, person_id, active=False)
    await demo.publish_pending()
    js = await demo.js()
    for name in DOMAIN_SERVICES:
        svc = demo.services[name]
        await drain(svc.sessionmaker, js, list(svc.spec.subscriptions()))

    async def all_refused() -> bool:
        statuses = await _statuses(demo, token)
        return all(v == 401 for v in statuses.values())

    await wait_for(all_refused, timeout=5.0, interval=0.01)


async def _principal(stack: Stack, token: str) -> Any:
    return await stack.services["audit"].app.state.verifier.verify(token)


async def _waiting_for_advisory_lock(stack: Stack, service: str) -> bool:
    async with stack.session(service) as session:
        waiting = await session.scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        )
    return bool(waiting)


async def _needs_recorded_by(stack: Stack, person_id: str, title: str) -> list[Any]:
    async with stack.session("audit") as session:
        return list(
            (
                await session.execute(
                    text("SELECT recorded_by FROM needs WHERE title = :t"), {"t": title}
                )
            ).scalars()
        )


async def test_a_write_in_flight_when_erasure_arrives_is_swept(demo: Stack) -> None:
    """The write took its shared lock first: the erasure waits for it to commit, then its
    sweep sees the write and removes the person from it."""
    import asyncio

    from cpd_audit.needs import schemas as need_schemas
    from cpd_audit.needs import service as need_service

    admin = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, admin)
    person_id, _, token = await _new_admin(demo, admin, school_id)
    principal = await _principal(demo, token)
    title = "In flight during erasure"
    async with demo.session("audit") as write:
        # What one request does: the service call, then the guard, then (later) the commit.
        await need_service.record_need(
            write,
            need_schemas.NeedCreate(
                school_id=uuid.UUID(school_id),
                level="whole_school",
                title=title,
                need_types=["knowledge"],
            ),
            principal=principal,
        )
        await revocation.guard_write(write, principal)

        resp = await demo.gateway.post(f"/v1/people/{person_id}/erase", headers=admin)
        assert resp.status_code == 202
        await demo.publish_pending()
        erasure = asyncio.create_task(demo.drain())
        await wait_for(lambda: _waiting_for_advisory_lock(demo, "audit"), timeout=10)
        assert not erasure.done()  # the erasure waits for the write
        await write.commit()
    await erasure
    assert await _needs_recorded_by(demo, person_id, title) == [None]


async def test_a_write_reaching_commit_during_erasure_is_refused(demo: Stack) -> None:
    """The erasure took its lock first: the write waits at its guard, then sees the erasure
    and is refused; nothing of it is stored."""
    import asyncio

    admin = await demo.auth(*ADMIN)
    school_id = await _school_id(demo, admin)
    person_id, _, token = await _new_admin(demo, admin, school_id)
    subject = revocation.subject_of_person(uuid.UUID(person_id))
    title = "Committed during erasure"
    audit = demo.services["audit"]
    async with demo.session("audit") as erasing:
        await revocation.lock_subject(erasing, subject)
        write = asyncio.create_task(
            audit.client.post(
                "/v1/needs",
                headers=_bearer(token),
                json={
                    "school_id": school_id,
                    "level": "whole_school",
                    "title": title,
                    "need_types": ["knowledge"],
                },
            )
        )

        async def write_waits_or_ended() -> bool:
            return write.done() or await _waiting_for_advisory_lock(demo, "audit")

        await wait_for(write_waits_or_ended, timeout=30)
        assert not write.done(), f"the write did not wait at its guard: {write.result().text}"
        from cpd_audit.models import TokenRevocation

        await revocation.record(
            erasing,
            TokenRevocation,
            subject=subject,
            trust_id=uuid.UUID(str((await _principal(demo, token)).trust_id)),
            active=False,
            roles=[],
            school_ids=[],
            at=datetime.now(UTC),
            narrowed=True,
            deactivated=True,
        )
        await erasing.commit()
    resp = await write
    assert resp.status_code == 401, resp.text
    assert await _needs_recorded_by(demo, person_id, title) == []
