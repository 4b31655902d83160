"""Tenant isolation for every method (issue 12, security matrix): every operation of the merged
OpenAPI document that takes a path id (GET, PUT, PATCH, POST, DELETE) is sent with real Oakridge
ids by each role of another trust (trust admin, school leader, staff, governor, QA client, HR
client of Riverside) and, where the resource is Northfield's alone, by Southbank's school
leader, staff and governor: every answer is 404 or 403, and what Oakridge reads of the
resource (it, its list, its parents) is unchanged afterwards. Bodies are valid (generated from
the request schema) and carry the resource's real ETag, so nothing but tenancy stops them.

New endpoints join by themselves; one that cannot be filled with an Oakridge resource fails
the coverage test until it is filled or listed in ``EXCLUDED`` with the reason."""

from __future__ import annotations

import pytest

from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, RIVERSIDE_HIGH
from cpd_local.stack import Stack

from .tenants import Matrix, attack, build_matrix, changed

# Operations with a path id the matrix does not exercise, and why.
FEED = (
    "a calendar feed is addressed by its owner's secret token, not by a bearer token: "
    "test_a_feed_token_reaches_no_other_trusts_school below and services/evaluation's "
    "test_offer (rotated and made-up tokens 404)"
)
# Read by every caller of any trust by design, so not attacked (their answer is the same).
PLATFORM_WIDE: dict[str, str] = {
    "GET /scim/v2/ResourceTypes/{name}": "SCIM discovery (RFC 7644 section 4): no trust data",
    "GET /scim/v2/Schemas/{urn}": "SCIM discovery (RFC 7644 section 4): no trust data",
}
# Read by everyone of the trust, whatever their school.
TRUST_WIDE: dict[str, str] = {
    "GET /v1/schools/{school_id}": "the trust's schools (name, phase) are listed to all its people",
}
EXCLUDED: dict[str, str] = {
    "GET /v1/calendar/feeds/{token}/me.ics": FEED,
    "GET /v1/calendar/feeds/{token}/schools/{school_id}.ics": FEED,
    "GET /v1/calendar/feeds/{token}/trust.ics": FEED,
}


@pytest.fixture(scope="module")
async def matrix(world: Stack) -> Matrix:
    # The world's rate limits are out of reach (conftest): hundreds of requests by a handful
    # of people meet no 429 here.
    return await build_matrix(world)


async def test_every_operation_with_a_path_id_is_covered(matrix: Matrix) -> None:
    keys = {op.key for op in matrix.ops}
    stale = sorted(set(EXCLUDED) - keys)
    assert not stale, f"excluded operations the document no longer has: {stale}"
    missing = sorted(keys - set(matrix.targets) - set(EXCLUDED))
    assert not missing, "operations with a path id neither exercised nor excluded:\n" + "\n".join(
        missing
    )
    both = sorted(set(matrix.targets) & set(EXCLUDED))
    assert not both, f"exercised, so no longer to be excluded: {both}"
    print(
        f"tenant writes: {len(matrix.targets)} of {len(keys)} operations with a path id,"
        f" {len(matrix.school_targets)} on Northfield-only resources; created {matrix.created}"
    )


async def test_another_trust_cannot_write(world: Stack, matrix: Matrix) -> None:
    wrong = []
    for target in matrix.targets.values():
        if target.op.key in PLATFORM_WIDE:
            continue
        for role, who in matrix.attackers.items():
            resp = await attack(world, matrix, target, who)
            if resp.status_code not in (403, 404):
                wrong.append(
                    f"{role}: {target.op.method.upper()} {target.url} ({target.op.path})"
                    f" -> {resp.status_code} {resp.text[:200]}"
                )
    touched = [f"{key}: {await changed(world, t)}" for key, t in matrix.targets.items()]
    touched = [t for t in touched if not t.endswith(": []")]
    assert not wrong, "\n".join(wrong)
    assert not touched, "\n".join(touched)
    print(f"tenant writes: {len(matrix.targets) * len(matrix.attackers)} requests, all 404/403")


async def test_another_school_cannot_write_school_private_resources(
    world: Stack, matrix: Matrix
) -> None:
    wrong = []
    for target in matrix.school_targets.values():
        if target.op.key in PLATFORM_WIDE or target.op.key in TRUST_WIDE:
            continue
        for role, who in matrix.neighbours.items():
            resp = await attack(world, matrix, target, who, matrix.southbank_ids)
            if resp.status_code not in (403, 404):
                wrong.append(
                    f"Southbank {role}: {target.op.method.upper()} {target.url}"
                    f" ({target.op.path}) -> {resp.status_code} {resp.text[:200]}"
                )
    touched = [f"{key}: {await changed(world, t)}" for key, t in matrix.school_targets.items()]
    touched = [t for t in touched if not t.endswith(": []")]
    assert not wrong, "\n".join(wrong)
    assert not touched, "\n".join(touched)
    assert len(matrix.school_targets) >= 20, sorted(matrix.school_targets)


async def test_a_feed_token_reaches_no_other_trusts_school(world: Stack) -> None:
    """A Riverside teacher's calendar feed, asked for an Oakridge school, answers 404."""
    teacher = await world.headers_for(PEOPLE_BY_KEY["r-t1"].id)
    urls = (await world.gateway.post("/v1/calendar/feed", headers=teacher)).json()
    own = urls["schools"][str(RIVERSIDE_HIGH)]
    assert (await world.gateway.get(own)).status_code == 200
    other = own.replace(str(RIVERSIDE_HIGH), str(NORTHFIELD))
    resp = await world.gateway.get(other)
    assert resp.status_code == 404, resp.text
