"""Reflections: private to the author and the mentor they share with, unless shared as
evidence; leaders see counts of private entries; every role checked."""

from __future__ import annotations

from typing import Any

from cpd_local.stack import Stack

from .conftest import Api, person_id

ENTRY = {
    "tried": "Asked pupils to explain a partner's method before their own.",
    "pupil_effect": "More pupils used the vocabulary; two still copied.",
    "next_steps": "Model the sentence stems first.",
}


async def setup(api: Api) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    activity = await api.create_activity()
    aid = activity["id"]
    for who in ("n-t1", "n-t2"):
        await api.add(aid, "n-head", who)
    private = await api.post(f"/{aid}/reflections", "n-t1", ENTRY)
    mentored = await api.post(
        f"/{aid}/reflections", "n-t1", {**ENTRY, "mentor_id": person_id("n-t3")}
    )
    evidence = await api.post(f"/{aid}/reflections", "n-t1", {**ENTRY, "shared_as_evidence": True})
    return aid, private, mentored, evidence


async def ids(api: Api, aid: str, who: str) -> set[str]:
    return {r["id"] for r in (await api.get(f"/{aid}/reflections", who))["items"]}


async def test_who_reads_which_entry(demo: Stack, api: Api) -> None:
    aid, private, mentored, evidence = await setup(api)
    every = {private["id"], mentored["id"], evidence["id"]}
    assert await ids(api, aid, "n-t1") == every
    # The mentor reads only what is shared with them (they do not see the activity itself).
    assert await ids(api, aid, "n-t3") == {mentored["id"]}
    await api.call("GET", f"/{aid}", "n-t3", expect=404)
    await api.call("GET", f"/{aid}/reflections/{private['id']}", "n-t3", expect=404)
    # Leaders, trust admins and other participants read shared evidence only.
    for who in ("n-head", "admin", "n-t2"):
        assert await ids(api, aid, who) == {evidence["id"]}, who
        await api.call("GET", f"/{aid}/reflections/{private['id']}", who, expect=404)
        await api.call("GET", f"/{aid}/reflections/{mentored['id']}", who, expect=404)
    # Colleagues outside the activity, other trusts: nothing exists; governors: 403.
    for who in ("n-t4", "r-admin"):
        await api.call("GET", f"/{aid}/reflections", who, expect=404)
        await api.call("GET", f"/{aid}/reflections/{evidence['id']}", who, expect=404)
    await api.call("GET", f"/{aid}/reflections", "n-gov", expect=403)
    # Leaders see how many private entries there are, not what they say.
    counts = await api.get(f"/{aid}/reflections/counts", "n-head")
    assert counts == {"activity_id": aid, "private": 2, "shared_as_evidence": 1}
    await api.call("GET", f"/{aid}/reflections/counts", "n-t4", expect=404)


async def test_only_the_author_writes(api: Api) -> None:
    aid, private, mentored, _ = await setup(api)
    path = f"/v1/activities/{aid}/reflections/{mentored['id']}"
    # The mentor reads but does not change it; the leader does not even see it.
    await api.patch(path, "n-t3", {"next_steps": "x"}, expect=403)
    await api.call("PATCH", path, "n-head", json={"next_steps": "x"}, expect=404)
    changed = await api.patch(path, "n-t1", {"mentor_id": None, "shared_as_evidence": True})
    assert changed["mentor_id"] is None and changed["shared_as_evidence"] is True
    await api.call("GET", path, "n-t3", expect=404)  # no longer shared with the mentor
    assert mentored["id"] in await ids(api, aid, "n-head")
    # Without If-Match: 428; stale: 412.
    await api.call("PATCH", path, "n-t1", json={"tried": "y"}, expect=428)
    await api.call(
        "PATCH", path, "n-t1", json={"tried": "y"}, headers={"If-Match": '"x"'}, expect=412
    )
    # Only participants write; a mentor must be someone of the trust, not yourself.
    await api.post(f"/{aid}/reflections", "n-head", ENTRY, expect=403)
    await api.post(
        f"/{aid}/reflections", "n-t1", {**ENTRY, "mentor_id": person_id("r-t1")}, expect=422
    )
    await api.post(
        f"/{aid}/reflections", "n-t1", {**ENTRY, "mentor_id": person_id("n-t1")}, expect=422
    )
    await api.post(f"/{aid}/reflections", "n-t1", {"shared_as_evidence": True}, expect=422)
    await api.patch(
        f"/v1/activities/{aid}/reflections/{private['id']}",
        "n-t1",
        {"tried": None, "pupil_effect": None, "next_steps": None},
        expect=422,
    )
    await api.delete(f"/v1/activities/{aid}/reflections/{private['id']}", "n-t1")
    await api.call("GET", f"/{aid}/reflections/{private['id']}", "n-t1", expect=404)
