"""``sort`` and ``q`` on the activities list: sorts from an allow-list (422 otherwise),
including by the day of the first session, with cursors that keep the sort."""

from __future__ import annotations

from typing import Any

from .conftest import Api


async def titles(api: Api, **params: Any) -> list[str]:
    out: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = (await api.call("GET", "", "admin", params=query)).json()
        out += [a["title"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


async def test_activities_sort_and_search(api: Api) -> None:
    for title, day in (
        ("Oracy pelican late", "2026-03-02"),
        ("oracy pelican early", "2025-10-06"),
        ("Oracy pelican none", None),
        ("Oracy pelican middle", "2026-01-05"),
    ):
        sessions = [{"held_on": day, "duration_minutes": 60}] if day else []
        await api.create_activity(title=title, sessions=sessions)

    assert await titles(api, q="pelican", sort="first_session", limit=1) == [
        "oracy pelican early",
        "Oracy pelican middle",
        "Oracy pelican late",
        "Oracy pelican none",
    ]
    # Without sessions comes last in both directions.
    assert await titles(api, q="pelican", sort="-first_session", limit=3) == [
        "Oracy pelican late",
        "Oracy pelican middle",
        "oracy pelican early",
        "Oracy pelican none",
    ]
    assert await titles(api, q="PELICAN oracy", sort="title", limit=2) == [
        "oracy pelican early",
        "Oracy pelican late",
        "Oracy pelican middle",
        "Oracy pelican none",
    ]
    # q also searches subject and focus.
    assert len(await titles(api, q="pelican reasoning")) == 4

    bad = await api.call("GET", "", "admin", params={"sort": "cost"}, expect=422)
    assert [e["loc"] for e in bad.json()["errors"]] == ["query.sort"]
    first = (
        await api.call(
            "GET", "", "admin", params={"q": "pelican", "sort": "first_session", "limit": 1}
        )
    ).json()
    await api.call(
        "GET", "", "admin", params={"sort": "title", "cursor": first["next_cursor"]}, expect=422
    )
