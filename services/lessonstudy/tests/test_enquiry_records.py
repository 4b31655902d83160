"""Record rules of enquiries and learning communities: one coordinator and one membership per
person under concurrency, members who have recorded something stay, a community's link to an
enquiry is made by the enquiry's members and can be removed with If-Match."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from cpd_common.testing.concurrency import one_winner, race
from cpd_local.stack import Stack

from .conftest import Api
from .enquiry_helpers import (
    COMMUNITIES,
    ENQUIRIES,
    add_data,
    create_community,
    create_enquiry,
    member_id,
    pid,
)

N = 8


async def _rows(demo: Stack, sql: str, **params: Any) -> int:
    async with demo.session("lessonstudy") as session:
        return int((await session.execute(text(sql), params)).scalar_one())


async def test_one_membership_and_one_coordinator_under_concurrency(demo: Stack, api: Api) -> None:
    enquiry = await create_enquiry(api, "n-t1", [])
    headers = await api.headers("n-t1")
    url = f"{ENQUIRIES}/{enquiry['id']}/members"
    body = {"person_id": pid("n-t4")}
    responses, _ = await race(N, lambda: demo.gateway.post(url, headers=headers, json=body))
    one_winner(responses)
    assert (
        await _rows(
            demo,
            "SELECT count(*) FROM enquiry_members WHERE enquiry_id = :e AND person_id = :p",
            e=enquiry["id"],
            p=body["person_id"],
        )
        == 1
    )

    # Hand over the coordinator role, then race several would-be coordinators.
    community = await create_community(api, "n-t1", ["n-t2", "n-t3", "n-t4", "n-t5"])
    cbase = f"{COMMUNITIES}/{community['id']}"
    await api.patch(f"{cbase}/members/{member_id(community, 'n-t1')}", "n-t1", {"role": "member"})
    paths = [f"{cbase}/members/{member_id(community, k)}" for k in ("n-t2", "n-t3", "n-t4")]
    etags = [(await api.call("GET", p, "n-t1")).headers["etag"] for p in paths]
    hdrs = await api.headers("n-t1")
    answers = await race_each(
        demo,
        [(p, {**hdrs, "If-Match": e}) for p, e in zip(paths, etags, strict=True)],
        {"role": "coordinator"},
    )
    assert sorted(r.status_code for r in answers) == [200, 409, 409], [r.text for r in answers]
    assert (
        await _rows(
            demo,
            "SELECT count(*) FROM community_members WHERE community_id = :c "
            "AND role = 'coordinator'",
            c=community["id"],
        )
        == 1
    )


async def race_each(  # one PATCH per target, all at once
    demo: Stack, targets: list[tuple[str, dict[str, str]]], body: Any
) -> list[Any]:
    return list(
        await asyncio.gather(*(demo.gateway.patch(p, headers=h, json=body) for p, h in targets))
    )


async def test_members_with_a_record_stay_and_links_belong_to_members(
    demo: Stack, api: Api
) -> None:
    enquiry = await create_enquiry(api, "n-t1", ["n-t2"])
    base = f"{ENQUIRIES}/{enquiry['id']}"
    await api.post(base + "/start", "n-t1", expect=200)
    await add_data(api, enquiry["id"], "n-t2")
    mpath = f"{base}/members/{member_id(enquiry, 'n-t2')}"
    etag = (await api.call("GET", mpath, "n-t1")).headers["etag"]
    resp = await api.call("DELETE", mpath, "n-t1", headers={"If-Match": etag}, expect=409)
    assert resp.json()["type"].endswith("/member-has-record")
    await api.call("GET", mpath, "n-t1")

    # The community's coordinator can read the enquiry (a leader) but only its members link it.
    community = await create_community(api, "n-head", ["n-t1"])
    cbase = f"{COMMUNITIES}/{community['id']}"
    link = {"kind": "enquiry", "cycle": 1, "enquiry_id": enquiry["id"]}
    await api.call("POST", cbase + "/activities", "n-head", json=link, expect=403)
    activity = await api.post(cbase + "/activities", "n-t1", link)
    assert (await api.get(base, "n-t1"))["community_id"] == community["id"]
    apath = f"{cbase}/activities/{activity['id']}"
    await api.call("DELETE", apath, "n-t1", expect=428)
    etag = (await api.call("GET", apath, "n-t1")).headers["etag"]
    await api.call("DELETE", apath, "n-t1", headers={"If-Match": etag}, expect=204)
    got = await api.get(base, "n-t1")
    assert (got["community_id"], got["community_cycle"]) == (None, None)
    assert (await api.get(cbase + "/activities", "n-t1"))["items"] == []
    # A community that never met can be deleted.
    etag = (await api.call("GET", cbase, "n-head")).headers["etag"]
    await api.call("DELETE", cbase, "n-head", headers={"If-Match": etag}, expect=204)
    await api.call("GET", cbase, "n-head", expect=404)
