"""The demo trust has enough people who can sign in at one school to try an anonymous audit
(the README's walk-through uses eight of them)."""

from __future__ import annotations

from cpd_demo.trust import NORTHFIELD, NORTHFIELD_STAFF_PASSWORD, PEOPLE
from cpd_local.stack import Stack


async def test_at_least_eight_northfield_staff_can_sign_in(demo: Stack) -> None:
    staff = [
        p
        for p in PEOPLE
        if p.password == NORTHFIELD_STAFF_PASSWORD and p.school_ids == (NORTHFIELD,)
    ]
    assert len(staff) >= 8
    for person in staff:
        first, last = person.name.lower().split(" ", 1)
        assert person.email == f"{first}.{last}@northfield.example"
        headers = await demo.auth(person.email, NORTHFIELD_STAFF_PASSWORD)
        me = await demo.gateway.get("/v1/trusts", headers=headers)
        assert me.status_code == 200, me.text
