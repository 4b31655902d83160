"""The gateway's "one X per Y" rules under concurrency: an email is one person's across the
platform (it is a login name). The same create sent several times at once, even by two
trusts, makes one record; the others get 409. (API client ids are generated, never chosen, so
they cannot collide: tests/test_client_secrets.py.)"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from cpd_common.testing.concurrency import one_winner, race
from cpd_demo.trust import NORTHFIELD, RIVERSIDE_HIGH
from cpd_gateway.demo import DEMO_CREDENTIALS
from cpd_local.stack import Stack

ADMIN = DEMO_CREDENTIALS["trust admin"]
RIVERSIDE_ADMIN = DEMO_CREDENTIALS["trust admin (Riverside, another tenant)"]
N = 8


async def _count(stack: Stack, sql: str, **params: object) -> int:
    async with stack.session("gateway") as session:
        return int((await session.execute(text(sql), params)).scalar_one())


async def test_one_person_per_email_across_trusts_under_concurrency(seeded: Stack) -> None:
    oakridge = await seeded.auth(*ADMIN)
    riverside = await seeded.auth(*RIVERSIDE_ADMIN)
    email = f"sam-{uuid.uuid4().hex[:8]}@example.org"

    def body(school: uuid.UUID, password: bool) -> dict[str, object]:
        out: dict[str, object] = {
            "name": "Sam Okafor",
            "email": email if password else email.upper(),
            "school_ids": [str(school)],
            "roles": ["staff"],
        }
        if password:
            out["password"] = "a long enough passphrase"
        return out

    turn = iter(range(N))

    async def send():  # type: ignore[no-untyped-def]
        i = next(turn)
        headers, school = (oakridge, NORTHFIELD) if i % 2 == 0 else (riverside, RIVERSIDE_HIGH)
        return await seeded.gateway.post(
            "/v1/people", headers=headers, json=body(school, password=i % 4 < 2)
        )

    responses, _ = await race(N, send)
    one_winner(responses)
    for loser in responses:
        if loser.status_code == 409:
            assert loser.json()["title"] == "Email cannot be used"
    assert await _count(seeded, "SELECT count(*) FROM people WHERE email = :e", e=email) == 1
    assert await _count(seeded, "SELECT count(*) FROM accounts WHERE email = :e", e=email) <= 1
