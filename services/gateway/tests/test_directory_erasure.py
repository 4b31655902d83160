"""Right to erasure through the gateway: the person is blanked here and in every service's
projection, their login and group memberships go, and repeating it changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_gateway.directory.erasure import ERASED_NAME
from cpd_local.stack import Stack

from .directory_helpers import (
    ADMIN,
    DOMAIN_SERVICES,
    LEADER,
    assert_created,
    assert_problem,
    new_person,
    outbox_events,
)


async def _projection(stack: Stack, service: str, person_id: str) -> Any:
    async with stack.session(service) as session:
        return (
            await session.execute(
                text("SELECT id, name FROM people WHERE id = :id"), {"id": uuid.UUID(person_id)}
            )
        ).first()


async def test_erasure_blanks_the_person_everywhere(platform: Stack) -> None:
    admin = await platform.auth(*ADMIN)
    email = f"erase-me-{uuid.uuid4().hex[:6]}@northfield.example"
    person = assert_created(
        await platform.gateway.post(
            "/v1/people",
            headers=admin,
            json=new_person(name="Erin Erase", email=email, password="erase-me-password-26"),
        ),
        "/v1/people",
    )
    pid = person["id"]
    managed = assert_created(
        await platform.gateway.post(
            "/v1/people", headers=admin, json=new_person(line_manager_id=pid)
        ),
        "/v1/people",
    )
    group = assert_created(
        await platform.gateway.post(
            "/v1/groups",
            headers=admin,
            json={"name": "Triad", "member_ids": [pid, str(PEOPLE_BY_KEY["n-t2"].id)]},
        ),
        "/v1/groups",
    )
    assert await platform.token(email, "erase-me-password-26")
    await platform.settle()
    for service in DOMAIN_SERVICES:
        row = await _projection(platform, service, pid)
        assert row is not None and row.name == "Erin Erase", service

    not_yet = await platform.gateway.get(f"/v1/people/{pid}/erasure", headers=admin)
    assert_problem(not_yet, 404)
    leader = await platform.auth(*LEADER)
    assert_problem(await platform.gateway.post(f"/v1/people/{pid}/erase", headers=leader), 403)

    erased = await platform.gateway.post(f"/v1/people/{pid}/erase", headers=admin)
    assert erased.status_code == 202, erased.text
    receipt = erased.json()
    assert receipt["person_id"] == pid and receipt["status"] == "erased"
    assert set(receipt["services_notified"]) == set(DOMAIN_SERVICES)
    status = await platform.gateway.get(f"/v1/people/{pid}/erasure", headers=admin)
    assert status.status_code == 200 and status.json() == receipt

    # Blanked here, login gone, out of groups and no longer anyone's manager.
    now = (await platform.gateway.get(f"/v1/people/{pid}", headers=admin)).json()
    assert now["name"] == ERASED_NAME and now["name"] != "Erin Erase"
    assert now["email"] is None and now["department"] is None and now["start_date"] is None
    assert now["roles"] == [] and now["active"] is False and now["has_login"] is False
    assert now["erased_at"] is not None
    login = await platform.gateway.post(
        "/auth/token",
        data={"grant_type": "password", "username": email, "password": "erase-me-password-26"},
    )
    assert_problem(login, 401)
    members = (await platform.gateway.get(f"/v1/groups/{group['id']}", headers=admin)).json()
    assert members["member_ids"] == [str(PEOPLE_BY_KEY["n-t2"].id)]
    report = (await platform.gateway.get(f"/v1/people/{managed['id']}", headers=admin)).json()
    assert report["line_manager_id"] is None
    async with platform.session("gateway") as session:
        leftovers = await session.scalar(
            text("SELECT count(*) FROM people WHERE name = 'Erin Erase' OR email = :e"),
            {"e": email},
        )
    assert leftovers == 0

    # Erasing again changes nothing and publishes nothing more; an erased person cannot change.
    again = await platform.gateway.post(f"/v1/people/{pid}/erase", headers=admin)
    assert again.status_code == 202 and again.json() == receipt
    assert len(await outbox_events(platform, catalogue.PersonErased.event_type, pid)) == 1
    patch = await platform.gateway.patch(
        f"/v1/people/{pid}", headers={**admin, "If-Match": "*"}, json={"name": "Back"}
    )
    assert_problem(patch, 409)

    # Every service drops its copy.
    await platform.settle()
    for service in DOMAIN_SERVICES:
        assert await _projection(platform, service, pid) is None, service
