"""DELETE of every lesson-study resource that has an ETag takes If-Match, like PATCH: 428
without it, 412 when stale, and nothing is deleted by either."""

from __future__ import annotations

from cpd_local.stack import Stack

from .conftest import Api, days_ago, member_ids
from .lesson_helpers import GROUP


async def _refused_then_deleted(api: Api, path: str, who: str = "n-t6") -> None:
    missing = await api.call("DELETE", path, who, expect=428)
    assert missing.json()["status"] == 428
    stale = await api.call("DELETE", path, who, expect=412, headers={"If-Match": '"stale"'})
    assert stale.json()["status"] == 412
    await api.call("GET", path, who, expect=200)
    await api.delete(path, who)
    await api.call("GET", path, who, expect=404)


async def test_deletes_need_the_current_etag(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", {**GROUP, "n-t4": "observer"})
    sid = study["id"]
    ids = member_ids(study)
    pupils = await api.add_case_pupils(sid, "n-t6", labels="ABC")
    lesson = await api.plan_lesson(sid, "n-t6", ids["n-t1"])
    record = await api.post(
        f"/{sid}/time-records",
        "n-t6",
        {
            "kind": "planning",
            "held_on": days_ago(1),
            "attendance": [{"member_id": ids["n-t1"], "minutes": 45}],
        },
    )

    await _refused_then_deleted(api, f"/{sid}/time-records/{record['id']}")
    await _refused_then_deleted(api, f"/{sid}/research-lessons/{lesson['id']}")
    await _refused_then_deleted(api, f"/{sid}/case-pupils/{pupils[2]['id']}")
    await _refused_then_deleted(api, f"/{sid}/members/{ids['n-t4']}")

    # An ETag read before a change is stale after it.
    path = f"/{sid}/case-pupils/{pupils[1]['id']}"
    old = (await api.call("GET", path, "n-t6")).headers["etag"]
    await api.patch(path, "n-t6", {"profile": "Typical of middle attainers; now more vocal."})
    await api.call("DELETE", path, "n-t6", expect=412, headers={"If-Match": old})
