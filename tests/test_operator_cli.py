"""The operator's commands: ``cpd trust create`` sets up a new trust and its first admin without
the demo (a one-time setup token, never a password), ``cpd keys rotate`` rotates the platform's
signing key; both also as ``python -m cpd_gateway.*`` for deployments."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from cpd_common.errors import ProblemError
from cpd_gateway import create_trust
from cpd_local.stack import Stack

ADMIN_EMAIL = "head@hillside.example"
PASSWORD = "a long hillside passphrase"


async def sign_in(stack: Stack, email: str, password: str) -> int:
    resp = await stack.gateway.post(
        "/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    return resp.status_code


async def test_trust_create_sets_up_a_trust_and_its_first_admin(stack: Stack) -> None:
    settings = stack.services["gateway"].settings
    result = await create_trust.create_trust(
        settings,
        name="Hillside Learning Trust",
        admin_email=ADMIN_EMAIL,
        admin_name="Hana Head",
        schools=["Hillside Primary", "Hillside Academy"],
    )
    assert set(result["school_ids"]) == {"Hillside Primary", "Hillside Academy"}
    # No password exists until the admin sets one with the setup token, once.
    assert await sign_in(stack, ADMIN_EMAIL, PASSWORD) == 401
    redeem = {"reset_token": result["setup_token"], "new_password": PASSWORD}
    resp = await stack.gateway.post("/auth/password-reset", json=redeem)
    assert resp.status_code == 204, resp.text
    resp = await stack.gateway.post("/auth/password-reset", json=redeem)
    assert resp.status_code == 401, resp.text

    headers = await stack.auth(ADMIN_EMAIL, PASSWORD)
    trusts = (await stack.gateway.get("/v1/trusts", headers=headers)).json()["items"]
    assert [(t["id"], t["name"]) for t in trusts] == [
        (result["trust_id"], "Hillside Learning Trust")
    ]
    schools = (await stack.gateway.get("/v1/schools", headers=headers)).json()["items"]
    assert {s["name"] for s in schools} == {"Hillside Primary", "Hillside Academy"}
    me = (
        await stack.gateway.get(f"/v1/people/{result['admin_person_id']}", headers=headers)
    ).json()
    assert me["roles"] == ["trust_admin", "staff"] and me["name"] == "Hana Head"
    # The admin can run the trust at once: add a person.
    resp = await stack.gateway.post(
        "/v1/people",
        headers=headers,
        json={"name": "Tom Teacher", "school_ids": [result["school_ids"]["Hillside Primary"]]},
    )
    assert resp.status_code == 201, resp.text

    # Every service learns about the new trust's people and schools from the usual events.
    await stack.settle()
    for service in ("audit", "lessonstudy", "evaluation"):
        async with stack.session(service) as session:
            known = await session.scalar(
                text("SELECT count(*) FROM people WHERE trust_id = :t"),
                {"t": result["trust_id"]},
            )
        assert known == 2, service

    # An email already used (anywhere) is refused and nothing is made.
    async with stack.session("gateway") as session:
        before = await session.scalar(text("SELECT count(*) FROM trusts"))
    with pytest.raises(ProblemError) as refused:
        await create_trust.create_trust(settings, name="Copy Trust", admin_email=ADMIN_EMAIL)
    assert refused.value.status == 409
    async with stack.session("gateway") as session:
        assert await session.scalar(text("SELECT count(*) FROM trusts")) == before


def run_cpd(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cpd_local.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cpd_keys_rotate_and_trust_create_on_the_local_platform(
    pg_server: Any, stack: Stack
) -> None:
    # ``cpd`` finds the gateway's database where ``cpd up`` puts it: cpd_gateway on the server
    # CPD_DATABASE_URL names.
    await asyncio.to_thread(pg_server.drop_database, "cpd_gateway")
    await asyncio.to_thread(pg_server.create_database, "cpd_gateway", template="tpl_gateway")
    env = {**os.environ, "CPD_DATABASE_URL": pg_server.url("postgres"), "CPD_LOG_JSON": "false"}

    async def keys() -> list[tuple[str, bool]]:
        out = await asyncio.to_thread(
            pg_server.psql,
            "SELECT kid || ',' || (retired_at IS NULL) FROM signing_keys ORDER BY created_at",
            "cpd_gateway",
        )
        return [(k, active == "true") for k, active in (r.split(",") for r in out.split())]

    try:
        # A key made with no pending time signs at once; rotating again retires it.
        at_once = {**env, "CPD_SIGNING_KEY_PENDING_SECONDS": "0"}
        first = await asyncio.to_thread(run_cpd, "keys", "rotate", env=at_once)
        assert first.returncode == 0, first.stderr
        kid = json.loads(first.stdout)["kid"]
        second = await asyncio.to_thread(run_cpd, "keys", "rotate", env=at_once)
        assert second.returncode == 0, second.stderr
        new_kid = json.loads(second.stdout)["kid"]
        assert new_kid != kid
        stored = await keys()
        # One active key, the newest; the retired one is still published until it expires.
        assert [k for k, active in stored if active] == [new_kid]
        publish = await asyncio.to_thread(
            pg_server.psql,
            f"SELECT publish_until > now() FROM signing_keys WHERE kid = '{kid}'",
            "cpd_gateway",
        )
        assert publish == "t"
        # With a pending time the next key waits (published) before it signs, and
        # rotating meanwhile answers that same pending key instead of making another.
        # (Pending for ten minutes here, so a slow machine cannot let it start signing between
        # the two commands.)
        waits = {**env, "CPD_SIGNING_KEY_PENDING_SECONDS": "600"}
        pending = await asyncio.to_thread(run_cpd, "keys", "rotate", env=waits)
        assert pending.returncode == 0, pending.stderr
        again_pending = await asyncio.to_thread(run_cpd, "keys", "rotate", env=waits)
        assert again_pending.returncode == 0, again_pending.stderr
        assert json.loads(again_pending.stdout)["kid"] == json.loads(pending.stdout)["kid"]
        assert len(await keys()) == len(stored) + 1

        made = await asyncio.to_thread(
            run_cpd,
            "trust",
            "create",
            "--name",
            "Brookside Trust",
            "--admin-email",
            "admin@brookside.example",
            "--school",
            "Brookside Infants",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        result = json.loads(made.stdout)
        assert result["admin_email"] == "admin@brookside.example"
        assert len(result["setup_token"]) >= 32
        assert "POST /auth/password-reset" in made.stderr
        again = await asyncio.to_thread(
            run_cpd,
            "trust",
            "create",
            "--name",
            "Brookside Again",
            "--admin-email",
            "ADMIN@brookside.example",
            env=env,
        )
        assert again.returncode == 2 and "cannot be used" in again.stderr
        bad = await asyncio.to_thread(
            run_cpd, "trust", "create", "--name", "", "--admin-email", "x@y.example", env=env
        )
        assert bad.returncode == 2 and "refused" in bad.stderr
    finally:
        await asyncio.to_thread(
            pg_server.psql,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'cpd_gateway'",
        )
        await asyncio.to_thread(pg_server.drop_database, "cpd_gateway")


def test_cpd_says_what_to_do_without_a_local_platform(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CPD_DATABASE_URL"}
    env["CPD_STATE_DIR"] = str(tmp_path / "nothing-here")
    done = run_cpd("keys", "rotate", env=env)
    assert done.returncode != 0
    assert "cpd up" in done.stderr
