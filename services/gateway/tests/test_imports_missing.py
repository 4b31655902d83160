"""``POST /v1/imports/people?deactivate_missing=true``: the HR-managed people (with an external
id) of the file's scope whom the file leaves out are deactivated; the dry run lists them and
changes nothing; a real run deactivates them in the same transaction (one event each, their
tokens stop); the same file again changes nothing; never another trust, the caller, a trust
admin, someone also at a school the file does not cover, or someone added by hand."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from cpd_common.testing.api import assert_problem
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

from .test_imports import ADMIN, HR, TEACHER, URL, outbox_count

HEADER = "external_id,email,name,schools,line_manager"


def ids(*keys: str) -> set[str]:
    return {str(PEOPLE_BY_KEY[k].id) for k in keys}


async def hr_managed(stack: Stack, *keys: str) -> None:
    """Gives demo people an external id, as an HR system's first sync would have."""
    async with stack.session("gateway") as session:
        for key in keys:
            await session.execute(
                text("UPDATE people SET external_id = :ext WHERE id = :id"),
                {"ext": f"HR-{key}", "id": PEOPLE_BY_KEY[key].id},
            )
        # Someone at both schools: a Northfield-only file does not cover them.
        await session.execute(
            text("UPDATE people SET school_ids = :s WHERE id = :id"),
            {"s": [NORTHFIELD, SOUTHBANK], "id": PEOPLE_BY_KEY["n-t4"].id},
        )
        await session.commit()


async def active_of(stack: Stack) -> dict[str, bool]:
    async with stack.session("gateway") as session:
        rows = await session.execute(text("SELECT id, active FROM people"))
        return {str(pid): bool(active) for pid, active in rows}


async def post(
    stack: Stack, headers: dict[str, str], body: str, *, dry_run: bool = False
) -> dict[str, object]:
    params = {"deactivate_missing": "true"} | ({"dry_run": "true"} if dry_run else {})
    resp = await stack.gateway.post(
        URL, headers={**headers, "Content-Type": "text/csv"}, content=body.encode(), params=params
    )
    assert resp.status_code == 200, resp.text
    result: dict[str, object] = resp.json()
    return result


def missing_ids(report: dict[str, object]) -> set[str]:
    listed = report["deactivated_missing"]
    assert isinstance(listed, list)
    return {p["person_id"] for p in listed}


async def test_people_left_out_of_a_schools_file_are_deactivated_once(seeded: Stack) -> None:
    await hr_managed(seeded, "n-t1", "n-t2", "n-t3", "n-t4", "n-t5", "admin", "s-t1", "r-t1")
    hr = {"Authorization": f"Bearer {await seeded.client_token(*HR)}"}
    teacher = await seeded.auth(*TEACHER)  # n-t1, about to be left out of the file
    assert (await seeded.gateway.get("/v1/me", headers=teacher)).status_code == 200
    tag = uuid.uuid4().hex[:6]
    # Northfield's file: n-t2 (unchanged), a newcomer managed by n-t3 (named, so present).
    body = "\n".join(
        [
            HEADER,
            "HR-n-t2,,,Northfield Primary,",
            f"HR-{tag},new.{tag}@northfield.example,New Starter,Northfield Primary,HR-n-t3",
        ]
    )
    expected = ids("n-t1", "n-t5")
    before_events, before_active = await outbox_count(seeded), await active_of(seeded)

    dry = await post(seeded, hr, body, dry_run=True)
    assert dry["applied"] is False and missing_ids(dry) == expected
    listed = dry["deactivated_missing"]
    assert isinstance(listed, list)
    t1 = next(p for p in listed if p["person_id"] == str(PEOPLE_BY_KEY["n-t1"].id))
    assert t1["name"] == PEOPLE_BY_KEY["n-t1"].name and t1["external_id"] == "HR-n-t1"
    assert "schools the file names" in t1["reason"]
    assert (await outbox_count(seeded), await active_of(seeded)) == (before_events, before_active)

    real = await post(seeded, hr, body)
    assert real["applied"] is True and missing_ids(real) == expected
    assert len(real["created"]) == 1  # type: ignore[arg-type]
    after = await active_of(seeded)
    assert not any(after[pid] for pid in expected)
    # Untouched: present (n-t2, n-t3 as a manager), another school too (n-t4), out of scope
    # (s-t1), a trust admin, added by hand (no external id: n-t6), another trust (r-t1).
    for key in ("n-t2", "n-t3", "n-t4", "s-t1", "admin", "n-t6", "r-t1"):
        assert after[str(PEOPLE_BY_KEY[key].id)] is True, key
    # One event each (the newcomer's, and one per deactivation, saying active false).
    assert await outbox_count(seeded) == before_events + 3
    async with seeded.session("gateway") as session:
        for pid in expected:
            envelopes = (
                await session.scalars(
                    text(
                        "SELECT envelope FROM outbox WHERE envelope->>'subject' = :s ORDER BY seq"
                    ),
                    {"s": pid},
                )
            ).all()
            # Before it, only the demo seeding's event (active).
            assert [e["data"]["active"] for e in envelopes] == [True, False]
    # The left-out teacher's token stops at once, and so does signing in again.
    assert (await seeded.gateway.get("/v1/me", headers=teacher)).status_code == 401
    login = await seeded.gateway.post(
        "/auth/token",
        data={"grant_type": "password", "username": TEACHER[0], "password": TEACHER[1]},
    )
    assert login.status_code in (400, 401), login.text

    again = await post(seeded, hr, body)
    assert again["applied"] is False and again["deactivated_missing"] == []
    assert again["created"] == again["updated"] == []
    assert await outbox_count(seeded) == before_events + 3


async def test_the_scope_of_a_file_without_schools(seeded: Stack) -> None:
    await hr_managed(seeded, "n-t1", "s-t1", "admin", "r-t1")
    body = f"{HEADER}\nHR-n-t1,,,,\n"
    hr = {"Authorization": f"Bearer {await seeded.client_token(*HR)}"}
    refused = await seeded.gateway.post(
        URL,
        headers={**hr, "Content-Type": "text/csv"},
        content=body.encode(),
        params={"deactivate_missing": "true", "dry_run": "true"},
    )
    assert_problem(refused, 422)
    # A trust admin's file without schools covers the trust (not them, not another trust).
    admin = await seeded.auth(*ADMIN)
    report = await post(seeded, admin, body, dry_run=True)
    assert missing_ids(report) == ids("s-t1")
    assert "in this trust" in report["deactivated_missing"][0]["reason"]  # type: ignore[index]
    # Without the parameter nobody is deactivated.
    plain = await seeded.gateway.post(
        URL, headers={**admin, "Content-Type": "text/csv"}, content=body.encode()
    )
    assert plain.status_code == 200 and plain.json()["deactivated_missing"] == []
