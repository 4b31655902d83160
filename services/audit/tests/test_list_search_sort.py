"""``q`` and ``sort`` on the audits list and the needs register: search by words, sorts from an
allow-list (422 otherwise), and cursors that keep the sort."""

from __future__ import annotations

from typing import Any

from cpd_demo.trust import PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

LEADER = PEOPLE_BY_KEY["s-head"]


async def collect(stack: Stack, url: str, headers: dict[str, str], **params: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        resp = await stack.gateway.get(url, headers=headers, params=query)
        assert resp.status_code == 200, resp.text
        items += resp.json()["items"]
        cursor = resp.json()["next_cursor"]
        if cursor is None:
            return items


async def test_audits_q_and_sort(kit: Any) -> None:
    instrument = await kit.instrument_id("effective-cpd-principles")
    for title in ("Zeta quokka review", "alpha quokka check", "Mid quokka look"):
        await kit.create_audit(instrument_id=instrument, title=title)
    admin = await kit.h("admin")
    url = "/v1/audits"

    by_title = await collect(kit.stack, url, admin, q="QUOKKA", sort="title", limit=1)
    assert [a["title"] for a in by_title] == [
        "alpha quokka check",
        "Mid quokka look",
        "Zeta quokka review",
    ]
    desc = await collect(kit.stack, url, admin, q="quokka", sort="-title", limit=2)
    assert [a["title"] for a in desc] == [a["title"] for a in reversed(by_title)]
    assert [a["title"] for a in await collect(kit.stack, url, admin, q="quokka alpha")] == [
        "alpha quokka check"
    ]
    newest = await collect(kit.stack, url, admin, q="quokka", sort="-created_at")
    assert [a["title"] for a in newest] == [
        "Mid quokka look",
        "alpha quokka check",
        "Zeta quokka review",
    ]

    bad = await kit.gw.get(url, headers=admin, params={"sort": "status"})
    assert bad.status_code == 422, bad.text
    assert [e["loc"] for e in bad.json()["errors"]] == ["query.sort"]
    first = await kit.gw.get(
        url, headers=admin, params={"q": "quokka", "sort": "title", "limit": 1}
    )
    other = await kit.gw.get(
        url, headers=admin, params={"sort": "-title", "cursor": first.json()["next_cursor"]}
    )
    assert other.status_code == 422, other.text


async def test_needs_q_and_sort_by_priority(demo: Stack) -> None:
    leader = await demo.headers_for(LEADER.id)
    for title, priority in (
        ("Wombat phonics basics", "low"),
        ("Wombat phonics leadership", "high"),
        ("Wombat phonics catch-up", "medium"),
    ):
        resp = await demo.gateway.post(
            "/v1/needs",
            headers=leader,
            json={
                "school_id": str(SOUTHBANK),
                "level": "whole_school",
                "title": title,
                "description": "Early reading.",
                "need_types": ["knowledge"],
                "evidence": [{"source": "learning_walk", "notes": "Seen in lessons."}],
                "priority": priority,
            },
        )
        assert resp.status_code == 201, resp.text

    by_priority = await collect(demo, "/v1/needs", leader, q="wombat", sort="priority", limit=2)
    assert [n["priority"] for n in by_priority] == ["high", "medium", "low"]
    lowest_first = await collect(demo, "/v1/needs", leader, q="wombat", sort="-priority", limit=1)
    assert [n["priority"] for n in lowest_first] == ["low", "medium", "high"]
    by_title = await collect(demo, "/v1/needs", leader, q="wombat phonics", sort="title")
    assert [n["title"] for n in by_title] == sorted((n["title"] for n in by_title), key=str.lower)
    assert await collect(demo, "/v1/needs", leader, q="wombat_") == []
    bad = await demo.gateway.get("/v1/needs", headers=leader, params={"sort": "evidence"})
    assert bad.status_code == 422
