"""Helpers for the audit tests (instruments, audits, responses, results): the demo trust's
people and a thin client that calls the gateway as a front end would."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from cpd_common.testing.api import ApiClient
from cpd_demo.trust import OAKRIDGE, PEOPLE, PEOPLE_BY_KEY
from cpd_local.stack import Stack

OAKRIDGE_STAFF = [p for p in PEOPLE if p.trust_id == OAKRIDGE and p.staff_group != "governor"]


@pytest.fixture
def platform_services() -> tuple[str, ...]:
    """The audit tests need the gateway (directory, tokens, routing) and the audit service."""
    return ("gateway", "audit")


class AuditKit(ApiClient):
    """The shared client on the demo trust's people, with the audit tests' building blocks."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack, people={k: p.id for k, p in PEOPLE_BY_KEY.items()})

    @property
    def gw(self) -> httpx.AsyncClient:
        return self.stack.gateway

    async def h(self, who: str | uuid.UUID) -> dict[str, str]:
        """Headers for a demo person by key (``"admin"``) or for any person id."""
        return await self.headers(who)

    async def instrument_id(self, key: str) -> str:
        resp = await self.gw.get("/v1/instruments?limit=200", headers=await self.h("admin"))
        assert resp.status_code == 200, resp.text
        return next(i["id"] for i in resp.json()["items"] if i["key"] == key)

    async def create_audit(
        self,
        *,
        instrument_id: str,
        scope: dict[str, Any] | None = None,
        groups: list[str] | None = None,
        k: int = 5,
        title: str = "Autumn CPD audit",
        as_: str = "admin",
        expect: int = 201,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "instrument_id": instrument_id,
            "title": title,
            "scope": scope or {"kind": "trust"},
            "min_group_size": k,
        }
        if groups is not None:
            body["audience"] = {"staff_groups": groups}
        resp = await self.gw.post("/v1/audits", json=body, headers=await self.h(as_))
        assert resp.status_code == expect, resp.text
        return dict(resp.json())

    async def transition(
        self, audit_id: str, action: str, *, as_: str = "admin", expect: int = 200
    ) -> dict[str, Any]:
        resp = await self.gw.post(f"/v1/audits/{audit_id}/{action}", headers=await self.h(as_))
        assert resp.status_code == expect, resp.text
        return dict(resp.json())

    async def respond(
        self, audit_id: str, who: str | uuid.UUID, answers: dict[str, Any], *, expect: int = 201
    ) -> httpx.Response:
        resp = await self.gw.post(
            f"/v1/audits/{audit_id}/responses",
            json={"answers": answers},
            headers=await self.h(who),
        )
        assert resp.status_code == expect, resp.text
        return resp

    async def results(
        self, audit_id: str, *, by: str | None = None, as_: str = "admin", expect: int = 200
    ) -> dict[str, Any]:
        url = f"/v1/audits/{audit_id}/results" + (f"?by={by}" if by else "")
        resp = await self.gw.get(url, headers=await self.h(as_))
        assert resp.status_code == expect, resp.text
        return dict(resp.json())

    @staticmethod
    def people(
        *, groups: Iterable[str] | None = None, school: uuid.UUID | None = None
    ) -> list[Any]:
        """Demo Oakridge people (not governors), optionally of some staff groups / one school."""
        wanted = set(groups) if groups else None
        return [
            p
            for p in OAKRIDGE_STAFF
            if (wanted is None or p.staff_group in wanted)
            and (school is None or school in p.school_ids)
        ]

    @staticmethod
    def paired_answers(rng: random.Random, keys: Iterable[str]) -> dict[str, Any]:
        """Values tend to run higher than practice, as in real rounds."""
        out = {}
        for key in keys:
            values = rng.randint(3, 5)
            out[key] = {"values": values, "practice": rng.randint(1, values)}
        return out

    @staticmethod
    def item(results: dict[str, Any], key: str) -> dict[str, Any]:
        return next(i for i in results["items"] if i["item_key"] == key)

    @staticmethod
    def cell(results: dict[str, Any], **group: Any) -> dict[str, Any]:
        return next(
            c for c in results["breakdown"] if all(c["group"].get(k) == v for k, v in group.items())
        )


@pytest.fixture
def kit(demo: Stack) -> AuditKit:
    return AuditKit(demo)
