"""Tenant isolation for every method (issue 12, security matrix): every operation of the merged
OpenAPI document that takes a path id (PUT, PATCH, POST, DELETE) is sent with real Oakridge
ids by each role of another trust (trust admin, school leader, staff, governor, QA client, HR
client of Riverside) and, where the resource is Northfield's alone, by Southbank's school
leader, staff and governor: every answer is 404 or 403, and what Oakridge reads of the
resource (it, its list, its parents) is unchanged afterwards. Bodies are valid (generated from
the request schema) and carry the resource's real ETag, so nothing but tenancy stops them.

New endpoints join by themselves; one that cannot be filled with an Oakridge resource fails
the coverage test until it is filled or listed in ``EXCLUDED`` with the reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cpd_local.stack import Stack

from .tenants import Matrix, attack, build_matrix, changed

# Operations with a path id the matrix does not exercise, and why.
EXCLUDED: dict[str, str] = {}


@pytest.fixture(scope="module")
async def matrix(world: Stack) -> AsyncIterator[Matrix]:
    # Hundreds of requests by a handful of people: the gateway's rate limits are not tested here.
    settings = world.services["gateway"].settings
    settings.rate_limits_enabled = False
    try:
        yield await build_matrix(world)
    finally:
        settings.rate_limits_enabled = True


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
