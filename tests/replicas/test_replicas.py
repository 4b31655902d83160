"""Two replicas of everything (issue 12, DESIGN.md section 9): two gateways, each with the
round-robin list of two audit API processes, two gateway workers (outbox relays) and two audit
workers (consumers sharing one durable consumer), on one PostgreSQL and one NATS.

Asserted: under a mixed load spread over both gateways every directory event is in the stream
once, in outbox order per aggregate, and handled once by audit, whose projection equals the
directory; an audit replica that stops is skipped (no error reaches callers) and each replica
serves alone; an Idempotency-Key holds across API replicas (one resource, replays from any);
a revoked API client's token stops working at both gateways and at both audit replicas;
rate limits are per gateway replica (documented; the tolerance is measured: at most twice the
limit with two); a signing-key rotation while both gateways serve leaves every token, old and
new, valid at both and at the audit service.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import nats
import pytest

from cpd_audit.worker import subscriptions as audit_subscriptions
from cpd_common.testing.plugin import server_dir
from cpd_demo.trust import DEMO_CREDENTIALS

from ..procstack import ProcStack
from ..workload import check_directory_events, running_load, summary, wait_until

FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module")
def stack() -> Iterator[ProcStack]:
    with server_dir("cpd-replicas-") as workdir:
        yield from _started(workdir)


def _started(workdir: Path) -> Iterator[ProcStack]:
    stack = ProcStack(
        workdir, ("gateway", "audit"), api_replicas=2, worker_replicas=2, gateway_replicas=2
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
        print("\nreplica figures:\n" + json.dumps(FIGURES, indent=2), file=sys.stderr)


def _consumers() -> dict[str, tuple[str, set[str]]]:
    sub = next(s for s in audit_subscriptions() if s.filter_subject == "cpd.directory.>")
    return {"audit": (sub.durable, set(sub.by_type))}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stream_order(stack: ProcStack) -> dict[str, list[str]]:
    """Event ids per aggregate (the CloudEvent ``subject``) in the order the stream holds them."""
    nc = await nats.connect(stack.nats.url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("CPD")
        order: dict[str, list[str]] = defaultdict(list)
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg("CPD", seq)
            if msg.subject and msg.subject.startswith("cpd.directory."):
                event = json.loads(msg.data or b"{}")
                order[str(event.get("subject"))].append(str(event["id"]))
        return order
    finally:
        await nc.close()


async def test_mixed_load_over_both_gateways_handles_every_event_once_in_order(
    stack: ProcStack,
) -> None:
    assert len(stack.gateway_urls()) == 2
    async with running_load(stack, writers=4, readers=2) as load:
        await asyncio.sleep(6)
    load.check_answers(allowed=frozenset({200, 201}))
    figures = await check_directory_events(stack, _consumers())
    outbox: dict[str, list[str]] = defaultdict(list)
    for row in await stack.fetch(
        "gateway",
        "SELECT envelope->>'subject' AS aggregate, event_id FROM outbox"
        " WHERE subject LIKE 'cpd.directory.%' ORDER BY seq",
    ):
        outbox[str(row["aggregate"])].append(str(row["event_id"]))
    stored = await stream_order(stack)
    out_of_order = [a for a, ids in outbox.items() if stored.get(a) != ids]
    assert not out_of_order, f"stream order differs from outbox order for {out_of_order[:5]}"
    for key in ("gateway", "gateway-2", "audit", "audit-2"):
        assert stack.supervisor.workers[key].poll() is None, f"{key} worker died"
    FIGURES["mixed_load"] = {
        **summary(load),
        **figures,
        "aggregates": len(outbox),
        "aggregates_with_several_events": sum(1 for ids in outbox.values() if len(ids) > 1),
    }


async def test_each_audit_replica_serves_alone_and_a_stopped_one_is_skipped(
    stack: ProcStack,
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        headers = bearer(await stack.token(client))

        async def all_ok(n: int = 12) -> list[int]:
            codes = []
            for i in range(n):
                base = stack.gateway_urls()[i % 2]
                codes.append(
                    (await client.get(f"{base}/v1/audits?limit=2", headers=headers)).status_code
                )
            return codes

        for stopped in ("audit", "audit-2"):
            stack.procs.children[stopped].kill()
            stack.procs.children[stopped].wait()
            try:
                codes = await all_ok()
                assert codes == [200] * len(codes), f"with {stopped} down: {codes}"
            finally:
                replica = 0 if stopped == "audit" else 1
                stack.start_api("audit", replica)
                await asyncio.to_thread(stack.wait_ready, stopped)
        assert await all_ok() == [200] * 12


async def test_an_idempotency_key_holds_across_api_replicas(stack: ProcStack) -> None:
    key = f"replica-{uuid.uuid4().hex}"
    school_id = str(
        (await stack.fetch("gateway", "SELECT id FROM schools ORDER BY name LIMIT 1"))[0][0]
    )
    body = {
        "school_id": school_id,
        "level": "whole_school",
        "title": f"Replica need {key}",
        "description": "Recorded once whichever replica answers.",
        "need_types": ["skills"],
        "evidence": [{"source": "learning_walk", "notes": "Seen in several lessons."}],
        "priority": "medium",
        "intended_outcomes": {"short_term": "a", "medium_term": "b", "long_term": "c"},
    }
    async with httpx.AsyncClient(timeout=20) as client:
        headers = {**bearer(await stack.token(client)), "Idempotency-Key": key}
        bases = stack.gateway_urls()
        # Concurrent first tries through both gateways (so both audit replicas): one need.
        first = await asyncio.gather(
            *(client.post(f"{bases[i % 2]}/v1/needs", headers=headers, json=body) for i in range(6))
        )
        codes = sorted(r.status_code for r in first)
        assert set(codes) <= {201, 409}, [r.text for r in first]
        created = [r for r in first if r.status_code == 201]
        assert created, codes
        need_id = created[0].json()["id"]
        assert all(r.json()["id"] == need_id for r in created)
        replays = [
            await client.post(f"{bases[i % 2]}/v1/needs", headers=headers, json=body)
            for i in range(4)
        ]
    assert [r.status_code for r in replays] == [201] * 4
    assert all(r.headers.get("idempotent-replayed") == "true" for r in replays)
    assert all(r.json()["id"] == need_id for r in replays)
    rows = await stack.fetch("audit", "SELECT id FROM needs WHERE title = $1", body["title"])
    assert [str(r[0]) for r in rows] == [need_id]
    FIGURES["idempotency"] = {"concurrent_first_tries": codes}


async def test_deactivating_a_person_stops_their_token_at_both_gateways_and_services(
    stack: ProcStack,
) -> None:
    bases = stack.gateway_urls()
    login, secret = DEMO_CREDENTIALS["school leader (Northfield)"]
    paths = ("/v1/schools", "/v1/audits?limit=1", "/v1/audits?limit=1")
    async with httpx.AsyncClient(timeout=10) as client:
        admin = bearer(await stack.token(client))
        granted = await client.post(
            f"{bases[1]}/auth/token",
            data={"grant_type": "password", "username": login, "password": secret},
        )
        assert granted.status_code == 200, granted.text
        access = granted.json()["access_token"]
        token = bearer(access)
        person_id = jwt.decode(access, options={"verify_signature": False})["sub"].split(":")[1]
        for base in bases:
            for path in paths:
                assert (await client.get(base + path, headers=token)).status_code == 200
        got = await client.get(f"{bases[0]}/v1/people/{person_id}", headers=admin)
        changed = await client.patch(
            f"{bases[0]}/v1/people/{person_id}",
            headers={**admin, "If-Match": got.headers["etag"]},
            json={"active": False},
        )
        assert changed.status_code == 200, changed.text
        started = asyncio.get_running_loop().time()

        async def refused_everywhere() -> bool | list[int]:
            codes = [
                (await client.get(base + path, headers=token)).status_code
                for base in bases
                for path in paths
            ]
            return codes == [401] * len(codes) or codes

        await wait_until(refused_everywhere, 30, "deactivated person's token refused everywhere")
        FIGURES["revocation_everywhere_s"] = round(asyncio.get_running_loop().time() - started, 2)


async def test_rate_limits_are_per_gateway_replica_within_twice_the_limit(
    stack: ProcStack,
) -> None:
    bases = stack.gateway_urls()
    limit = 20
    async with httpx.AsyncClient(timeout=10) as client:
        admin = bearer(await stack.token(client))
        made = await client.post(
            f"{bases[0]}/v1/clients",
            headers=admin,
            json={
                "name": "Limited feed",
                "roles": ["hr_integration"],
                "rate_limit_per_minute": limit,
            },
        )
        assert made.status_code == 201, made.text
        c = made.json()
        granted = await client.post(
            f"{bases[0]}/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": c["client_id"],
                "client_secret": c["client_secret"],
            },
        )
        token = bearer(granted.json()["access_token"])
        codes = [
            (await client.get(f"{bases[i % 2]}/scim/v2/Users?count=1", headers=token)).status_code
            for i in range(6 * limit)
        ]
        limited = await client.get(f"{bases[0]}/scim/v2/Users?count=1", headers=token)
    allowed = codes.count(200)
    assert set(codes) <= {200, 429}
    assert limited.status_code == 429 and "retry-after" in limited.headers
    assert limited.headers["content-type"].startswith("application/problem+json")
    # Buckets live in each replica's memory (docs/operations.md): up to the limit per replica,
    # plus what refills during the burst.
    assert limit <= allowed <= 2 * limit + 4, allowed
    FIGURES["rate_limit"] = {"limit_per_minute": limit, "replicas": 2, "allowed_in_burst": allowed}


async def test_key_rotation_while_both_gateways_serve(stack: ProcStack) -> None:
    bases = stack.gateway_urls()
    async with httpx.AsyncClient(timeout=10) as client:
        old = await stack.token(client, bases[0])
        env = {**os.environ, **stack.envs["gateway"], "CPD_SIGNING_KEY_PENDING_SECONDS": "6"}
        rotated = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "cpd_gateway.rotate_key"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert rotated.returncode == 0, rotated.stderr
        new_kid = json.loads(rotated.stdout)["kid"]
        tokens: dict[str, str] = {}
        refused: list[tuple[str, str, int, str]] = []

        async def both_sign_with_the_new_key() -> bool | dict[str, str]:
            for base in bases:
                token = await stack.token(client, base)
                kid = jwt.get_unverified_header(token)["kid"]
                if kid == new_kid:
                    tokens[base] = token
            # Meanwhile, every token keeps working at both gateways and the audit service.
            for token in (old, *tokens.values()):
                for base in bases:
                    for path in ("/v1/schools", "/v1/audits?limit=1"):
                        resp = await client.get(base + path, headers=bearer(token))
                        if resp.status_code != 200:
                            refused.append((base, path, resp.status_code, resp.text[:200]))
            return len(tokens) == len(bases) or {b: "old" for b in bases if b not in tokens}

        await wait_until(both_sign_with_the_new_key, 40, "both gateways sign with the new key")
        assert not refused, refused[:5]
        assert jwt.get_unverified_header(old)["kid"] != new_kid
        for token in (old, *tokens.values()):
            for base in bases:
                for path in ("/v1/schools", "/v1/audits?limit=1", "/v1/audits?limit=1"):
                    resp = await client.get(base + path, headers=bearer(token))
                    assert resp.status_code == 200, (base, path, resp.text)
