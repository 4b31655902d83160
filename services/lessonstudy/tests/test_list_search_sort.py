"""``q`` and ``sort`` on the lesson-study list: word search, sorts from an allow-list (422
otherwise), and cursors that keep the sort."""

from __future__ import annotations

from typing import Any

from .conftest import Api

GROUP = {"n-t1": "teacher", "n-t2": "observer", "n-t3": "observer"}


async def titles(api: Api, **params: Any) -> list[str]:
    out: list[str] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await api.get("", "n-t1", params=query)
        out += [s["title"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


async def test_lesson_studies_q_and_sort(api: Api) -> None:
    for title in ("Zebra counting", "aardvark counting", "Meerkat counting"):
        await api.create_study("n-t6", GROUP, title=title, research_question="Does it help?")
    assert await titles(api, q="COUNTING", sort="title", limit=1) == [
        "aardvark counting",
        "Meerkat counting",
        "Zebra counting",
    ]
    assert await titles(api, q="counting", sort="-title", limit=2) == [
        "Zebra counting",
        "Meerkat counting",
        "aardvark counting",
    ]
    assert await titles(api, q="counting", sort="-created_at") == [
        "Meerkat counting",
        "aardvark counting",
        "Zebra counting",
    ]
    # Words match any searched field: the subject and the research question too.
    assert len(await titles(api, q="mathematics meerkat")) == 1
    assert await titles(api, q="counting 100%") == []

    bad = await api.call("GET", "", "n-t1", params={"sort": "status"}, expect=422)
    assert [e["loc"] for e in bad.json()["errors"]] == ["query.sort"]
    first = await api.get("", "n-t1", params={"q": "counting", "sort": "title", "limit": 1})
    await api.call(
        "GET", "", "n-t1", params={"sort": "created_at", "cursor": first["next_cursor"]}, expect=422
    )
