"""A steady mixed workload through the gateway, and the event invariants checked after it
(shared by ``tests/reliability`` and ``tests/replicas``).

Writers add people (``directory.person.upserted``) and change their department (GET for the
ETag, PATCH with If-Match); readers list people (the gateway's own database) and audits
(proxied to the audit service). Every answer is recorded: status, whether a 503 carried
``Retry-After``, transport errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats

from .procstack import ProcStack, new_email


@dataclass
class Sample:
    at: float
    op: str
    status: int  # 0: no answer (transport error)
    retry_after: bool
    error: str = ""


@dataclass
class Load:
    bases: list[str]
    token: str
    school_id: str
    writers: int = 3
    readers: int = 2
    pause: float = 0.05
    samples: list[Sample] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    _rr: Any = None

    def base(self) -> str:
        if self._rr is None:
            self._rr = itertools.cycle(self.bases)
        return str(next(self._rr))

    async def _call(
        self, client: httpx.AsyncClient, op: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        try:
            resp = await client.request(method, self.base() + path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            self.samples.append(Sample(time.monotonic(), op, 0, False, repr(exc)))
            return None
        self.samples.append(
            Sample(
                time.monotonic(),
                op,
                resp.status_code,
                "retry-after" in resp.headers,
                resp.text[:300] if resp.status_code >= 500 else "",
            )
        )
        return resp

    async def create(self, client: httpx.AsyncClient) -> str | None:
        resp = await self._call(
            client,
            "create",
            "POST",
            "/v1/people",
            json={
                "name": f"Reliability {uuid.uuid4().hex[:8]}",
                "email": new_email(),
                "school_ids": [self.school_id],
                "staff_group": "teacher",
                "department": "Science",
                "roles": ["staff"],
            },
        )
        if resp is not None and resp.status_code == 201:
            person_id = str(resp.json()["id"])
            self.created.append(person_id)
            return person_id
        return None

    async def update(self, client: httpx.AsyncClient, person_id: str, n: int) -> None:
        got = await self._call(client, "read-person", "GET", f"/v1/people/{person_id}")
        if got is None or got.status_code != 200:
            return
        await self._call(
            client,
            "update",
            "PATCH",
            f"/v1/people/{person_id}",
            json={"department": f"Department {n}"},
            headers={"If-Match": got.headers["etag"]},
        )

    async def writer(self, stop: asyncio.Event) -> None:
        mine: list[str] = []
        async with httpx.AsyncClient(timeout=30) as client:
            for n in itertools.count():
                if stop.is_set():
                    return
                if mine and n % 3 == 2:
                    await self.update(client, mine[n % len(mine)], n)
                else:
                    person_id = await self.create(client)
                    if person_id:
                        mine.append(person_id)
                await asyncio.sleep(self.pause)

    async def reader(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            for n in itertools.count():
                if stop.is_set():
                    return
                if n % 2:
                    await self._call(client, "list-audits", "GET", "/v1/audits?limit=5")
                else:
                    await self._call(client, "list-people", "GET", "/v1/people?limit=5")
                await asyncio.sleep(self.pause)

    def statuses(self) -> Counter[int]:
        return Counter(s.status for s in self.samples)

    def check_answers(self, *, allowed: frozenset[int] = frozenset({200, 201, 503, 504})) -> None:
        """No 500, no answer outside ``allowed``, every 503 with Retry-After."""
        bad = [s for s in self.samples if s.status not in allowed]
        assert not bad, f"unexpected answers ({len(bad)}): {bad[:5]}"
        no_retry = [s for s in self.samples if s.status == 503 and not s.retry_after]
        assert not no_retry, f"503 without Retry-After: {no_retry[:5]}"


@contextlib.asynccontextmanager
async def running_load(stack: ProcStack, **kw: Any) -> AsyncIterator[Load]:
    async with httpx.AsyncClient(timeout=30) as client:
        token = await stack.token(client)
        resp = await client.get(
            stack.gateway_urls()[0] + "/v1/schools",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 200, resp.text
        school_id = str(resp.json()["items"][0]["id"])
    load = Load(stack.gateway_urls(), token, school_id, **kw)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(load.writer(stop)) for _ in range(load.writers)]
    tasks += [asyncio.create_task(load.reader(stop)) for _ in range(load.readers)]
    try:
        yield load
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


# ---- recovery ---------------------------------------------------------------------------------


async def recovery(
    stack: ProcStack, since: float, *, timeout: float = 30.0, token: str = ""
) -> dict[str, float]:
    """Seconds from ``since`` (a dependency came back) until a write through the gateway
    succeeds (``http``) and until an event written after ``since`` is in audit's projection
    (``events``). Fails after ``timeout``. ``token``: one the client held before the fault
    (a front end does not sign in again because the database blinked); without it the probe
    signs in first, and that counts."""
    deadline = since + timeout
    figures: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        person_id = None
        tries: list[str] = []  # what each failed try answered, and when (diagnosis)
        while time.monotonic() < deadline and person_id is None:
            try:
                if not token:
                    token = await stack.token(client)
                resp = await client.post(
                    stack.gateway_urls()[0] + "/v1/people",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"name": "Recovery probe", "email": new_email(), "roles": ["staff"]},
                )
                if resp.status_code == 201:
                    person_id = resp.json()["id"]
                    figures["http"] = time.monotonic() - since
                    break
                what = f"{resp.status_code} {resp.text[:60]}"
            except (httpx.HTTPError, AssertionError) as exc:
                what = type(exc).__name__
            tries.append(f"{time.monotonic() - since:.2f}s {what}")
            await asyncio.sleep(0.05)
        if tries:
            print(f"recovery tries: {tries[:3]} ... {tries[-3:]} ({len(tries)})")
        assert not [t for t in tries if " 500 " in t], f"a try answered 500: {tries}"
        assert person_id is not None, f"no successful write {timeout}s after recovery"
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                rows = await stack.fetch(
                    "audit", "SELECT 1 FROM people WHERE id = $1", uuid.UUID(person_id)
                )
                if rows:
                    figures["events"] = time.monotonic() - since
                    return figures
            await asyncio.sleep(0.05)
    raise AssertionError(f"event written after recovery not projected in {timeout}s: {figures}")


# ---- invariants -------------------------------------------------------------------------------


async def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            last = await check()
            if last is True:
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last})")


async def stream_ids(stack: ProcStack, prefix: str) -> Counter[str]:
    """How many times each ``Nats-Msg-Id`` is stored in the CPD stream under ``prefix``."""
    nc = await nats.connect(stack.nats.url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("CPD")
        counts: Counter[str] = Counter()
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg("CPD", seq)
            except nats.js.errors.NotFoundError:
                continue
            if msg.subject and msg.subject.startswith(prefix):
                counts[(msg.headers or {}).get("Nats-Msg-Id", "")] += 1
        return counts
    finally:
        await nc.close()


async def check_directory_events(
    stack: ProcStack, consumers: dict[str, tuple[str, set[str]]], *, timeout: float = 60.0
) -> dict[str, int]:
    """Every directory event the gateway's outbox holds is in the stream once and reached
    every consuming service once in effect: its inbox holds exactly the ids of the event
    types it handles, no dead letters, and its people projection equals the gateway's
    directory. ``consumers``: service -> (durable name, handled event types)."""

    async def outbox_sent() -> bool | int:
        rows = await stack.fetch("gateway", "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return rows[0][0] == 0 or int(rows[0][0])

    await wait_until(outbox_sent, timeout, "gateway outbox all sent")
    outbox = {
        str(r["event_id"]): r["type"]
        for r in await stack.fetch(
            "gateway", "SELECT event_id, type FROM outbox WHERE subject LIKE 'cpd.directory.%'"
        )
    }
    figures = {"directory_events": len(outbox)}
    stored = await stream_ids(stack, "cpd.directory.")
    assert set(stored) == set(outbox), (
        f"stream and outbox differ: {len(set(outbox) - set(stored))} missing from the stream,"
        f" {len(set(stored) - set(outbox))} unknown"
    )
    dupes = {k: v for k, v in stored.items() if v > 1}
    assert not dupes, f"events stored twice in the stream: {list(dupes.items())[:5]}"
    gateway_people = {
        r["id"]: (r["name"], r["department"], r["staff_group"])
        for r in await stack.fetch(
            "gateway", "SELECT id, name, department, staff_group FROM people"
        )
    }
    for service, (durable, types) in consumers.items():
        expected = {eid for eid, kind in outbox.items() if kind in types}

        async def caught_up(
            service: str = service, durable: str = durable, expected: set[str] = expected
        ) -> bool | int:
            rows = await stack.fetch(
                service, "SELECT event_id FROM inbox WHERE consumer = $1", durable
            )
            got = {r[0] for r in rows}
            return got >= expected or len(expected - got)

        await wait_until(caught_up, timeout, f"{service} inbox has every directory event")
        got = [
            r[0]
            for r in await stack.fetch(
                service, "SELECT event_id FROM inbox WHERE consumer = $1", durable
            )
        ]
        assert len(got) == len(set(got))
        assert set(got) == expected, f"{service}: {len(set(got) - expected)} unexpected events"
        dead = await stack.fetch(service, "SELECT error FROM dead_letters")
        assert not dead, f"{service} dead letters: {[d[0][:300] for d in dead[:3]]}"
        projected = {
            r["id"]: (r["name"], r["department"], r["staff_group"])
            for r in await stack.fetch(
                service, "SELECT id, name, department, staff_group FROM people"
            )
        }
        differs = {
            pid: (want, projected.get(pid))
            for pid, want in gateway_people.items()
            if projected.get(pid) != want
        }
        assert not differs, f"{service} projection differs: {list(differs.items())[:5]}"
        figures[f"{service}_handled"] = len(got)
    return figures


def summary(load: Load) -> dict[str, Any]:
    return {
        "requests": len(load.samples),
        "statuses": dict(sorted(load.statuses().items())),
        "http_500": sum(1 for s in load.samples if s.status == 500),
        "people_created": len(load.created),
    }


def dump(path: Any, figures: dict[str, Any]) -> None:
    path.write_text(json.dumps(figures, indent=2, sort_keys=True))
