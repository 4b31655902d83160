"""Measures of an evaluation plan and their observations recorded as JSON batches: ETags,
idempotent creates, the plan's permission rules, pupil ids pseudonymised on arrival (never
stored or echoed in clear), one value per subject and phase, and paging."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

from sqlalchemy import func, select, text

from cpd_common.testing.concurrency import one_winner, race
from cpd_demo.trust import RIVERSIDE_HIGH
from cpd_evaluation.models.measures import Measure, Observation, PseudonymSecret
from cpd_local.stack import Stack

from .conftest import Api, person_id

PLANS = "/v1/evaluations"


def plan_body(activity_id: str) -> dict[str, Any]:
    return {
        "title": "Reasoning talk in Year 5 maths",
        "activity_ids": [activity_id],
        "design_check": {"reaches_pupil_outcomes": True},
        "short_term_outcome": "Teachers use reasoning prompts in most lessons.",
        "medium_term_outcome": "Year 5 pupils score higher on reasoning items.",
        "baseline": {"quantitative": ["Year 5 reasoning test"]},
        "medium_term_data": {"quantitative": ["Year 5 reasoning test"]},
        "levels": ["use_of_knowledge_and_skills", "pupil_outcomes"],
    }


async def new_plan(api: Api, who: str = "n-head") -> str:
    activity = await api.create_activity(who)
    return str((await api.post(PLANS, who, plan_body(activity["id"])))["id"])


def measure_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Year 5 reasoning test",
        "kind": "test_score",
        "subjects": "pupils",
        "scale": {"min": 0, "max": 60, "description": "Raw marks out of 60"},
        "higher_is_better": True,
    }
    body.update(fields)
    return body


async def new_measure(api: Api, plan_id: str, who: str = "n-head", **fields: Any) -> str:
    return str((await api.post(f"{PLANS}/{plan_id}/measures", who, measure_body(**fields)))["id"])


def pupil(pupil_id: str, phase: str, value: float, **fields: Any) -> dict[str, Any]:
    return {"pupil_id": pupil_id, "phase": phase, "value": value, **fields}


async def count(stack: Stack, model: Any) -> int:
    async with stack.session("evaluation") as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_measure_create_read_change_delete_with_etags(demo: Stack, api: Api) -> None:
    plan = await new_plan(api)
    base = f"{PLANS}/{plan}/measures"
    key = {"Idempotency-Key": "measure-1"}
    resp = await api.call("POST", base, "n-head", json=measure_body(), headers=key, expect=201)
    measure = resp.json()
    mid = measure["id"]
    assert resp.headers["location"] == f"{base}/{mid}"
    assert measure["scale"] == {"min": 0.0, "max": 60.0, "description": "Raw marks out of 60"}
    assert measure["observations"] == {"baseline": 0, "short_term": 0, "medium_term": 0}
    again = await api.call("POST", base, "n-head", json=measure_body(), headers=key, expect=201)
    assert again.json()["id"] == mid
    assert await count(demo, Measure) == 1
    # One name per plan.
    await api.post(base, "n-head", measure_body(), expect=409)
    # A pupil kind never measures staff.
    await api.post(base, "n-head", measure_body(name="x", subjects="staff"), expect=422)
    await api.post(base, "n-head", measure_body(name="x", scale={"min": 5, "max": 1}), expect=422)

    path = f"{base}/{mid}"
    await api.call("PATCH", path, "n-head", json={"name": "Reasoning"}, expect=428)
    await api.call(
        "PATCH", path, "n-head", json={"name": "R"}, headers={"If-Match": '"x"'}, expect=412
    )
    changed = await api.patch(path, "n-head", {"name": "Reasoning", "higher_is_better": True})
    assert changed["name"] == "Reasoning"
    listed = await api.get(base, "n-head")
    assert [m["id"] for m in listed["items"]] == [mid]

    # Once it holds values, its kind is fixed and its scale must keep them.
    await api.post(
        f"/v1/measures/{mid}/observations",
        "n-head",
        {"observations": [pupil("A1001", "baseline", 42)]},
    )
    await api.patch(path, "n-head", {"kind": "teacher_assessment"}, expect=409)
    await api.patch(path, "n-head", {"scale": {"min": 0, "max": 40}}, expect=409)
    assert (await api.get(path, "n-head"))["observations"]["baseline"] == 1

    await api.delete(path, "n-head")
    await api.call("GET", path, "n-head", expect=404)
    assert await count(demo, Observation) == 0


async def test_pupil_ids_are_pseudonymised_and_never_stored_in_clear(demo: Stack, api: Api) -> None:
    mid = await new_measure(api, await new_plan(api))
    url = f"/v1/measures/{mid}/observations"
    batch = [
        pupil("A123456789012", "baseline", 31, disadvantaged=True, year_group="Year 5"),
        pupil("B223456789012", "baseline", 44, send=True, observed_on="2025-09-15"),
        pupil("C323456789012", "baseline", 38, group="comparison"),
    ]
    resp = await api.call(
        "POST",
        url,
        "n-head",
        json={"observations": batch},
        expect=201,
        headers={"Idempotency-Key": "obs-1"},
    )
    result = resp.json()
    assert result == {
        "measure_id": mid,
        "rows": 3,
        "inserted": 3,
        "replaced": 0,
        "phases": {"baseline": 3, "short_term": 0, "medium_term": 0},
    }
    assert "A123456789012" not in resp.text

    listed = (await api.get(url, "n-head"))["items"]
    async with demo.session("evaluation") as session:
        secret = await session.scalar(select(PseudonymSecret.secret))
        keys = set((await session.scalars(select(Observation.subject_key))).all())
        # The clear ids appear nowhere in the service's database: not in the rows, not in
        # the stored replay of the idempotent request.
        dump = (
            await session.execute(
                text(
                    "SELECT string_agg(t::text, ' ') FROM ("
                    "SELECT o::text AS t FROM observations o UNION ALL "
                    "SELECT convert_from(body, 'UTF8') FROM idempotency_keys) x"
                )
            )
        ).scalar_one()
    assert secret is not None and len(secret) == 32
    expected = {hmac.new(secret, p["pupil_id"].encode(), hashlib.sha256).hexdigest() for p in batch}
    assert keys == expected == {o["subject_key"] for o in listed}
    for p in batch:
        assert p["pupil_id"] not in dump and p["pupil_id"] not in str(listed)
    by_key = {o["subject_key"]: o for o in listed}
    first = by_key[hmac.new(secret, b"A123456789012", hashlib.sha256).hexdigest()]
    assert first["disadvantaged"] is True and first["year_group"] == "Year 5"
    assert first["value"] == 31.0 and first["group"] == "cpd" and first["send"] is False

    # The same upload with the same key stores nothing twice.
    again = await api.call(
        "POST",
        url,
        "n-head",
        json={"observations": batch},
        expect=201,
        headers={"Idempotency-Key": "obs-1"},
    )
    assert again.json() == result
    assert await count(demo, Observation) == 3
    # Without the key, the same subjects and phase are a 409 naming each item: nothing stored.
    conflict = await api.call(
        "POST",
        url,
        "n-head",
        expect=409,
        json={"observations": [pupil("a123456789012", "baseline", 30), pupil("Z9", "baseline", 1)]},
    )
    assert conflict.json()["errors"] == [
        {
            "loc": "body.observations.0.phase",
            "msg": "this subject already has a value at this phase",
        }
    ]
    assert await count(demo, Observation) == 3
    # replace=true replaces the held value (ids match case-insensitively) and adds the new one.
    replaced = await api.post(
        f"{url}?replace=true",
        "n-head",
        {"observations": [pupil("a123456789012", "baseline", 30), pupil("Z9", "baseline", 1)]},
    )
    assert (replaced["inserted"], replaced["replaced"]) == (1, 1)
    held = await api.get(url, "n-head", params={"subject_key": first["subject_key"]})
    assert [o["value"] for o in held["items"]] == [30.0]
    assert await count(demo, Observation) == 4


async def test_bad_items_store_nothing_and_are_each_named(demo: Stack, api: Api) -> None:
    mid = await new_measure(api, await new_plan(api))
    url = f"/v1/measures/{mid}/observations"
    bad = await api.call(
        "POST",
        url,
        "n-head",
        expect=422,
        json={
            "observations": [
                pupil("A1", "baseline", 10),
                pupil("A1", "baseline", 11),  # repeated subject and phase
                pupil("Jo Bloggs", "baseline", 12),  # a name in the id field
                pupil("A3", "baseline", 61),  # outside the scale
                pupil("A4", "baseline", 5, observed_on="2999-01-01"),
                {"person_id": person_id("n-t1"), "phase": "baseline", "value": 3},
            ]
        },
    )
    errors = bad.json()["errors"]
    assert {e["loc"] for e in errors} == {
        "body.observations.1.phase",
        "body.observations.2.pupil_id",
        "body.observations.3.value",
        "body.observations.4.observed_on",
        "body.observations.5.person_id",
    }
    assert "Jo Bloggs" not in bad.text
    assert await count(demo, Observation) == 0
    # Schema problems (a phase that does not exist, an unknown field) are a 422 too.
    await api.post(url, "n-head", {"observations": [pupil("A1", "end", 1)]}, expect=422)
    await api.post(
        url, "n-head", {"observations": [pupil("A1", "baseline", 1, name="Jo")]}, expect=422
    )
    await api.post(url, "n-head", {"observations": []}, expect=422)
    # A subject stays in one arm of the design across phases.
    await api.post(url, "n-head", {"observations": [pupil("A1", "baseline", 10)]})
    mixed = await api.post(
        url,
        "n-head",
        {"observations": [pupil("A1", "short_term", 12, group="comparison")]},
        expect=422,
    )
    assert mixed["errors"][0]["loc"] == "body.observations.0.group"
    assert await count(demo, Observation) == 1
    # Another content type is a 415.
    await api.call(
        "POST", url, "n-head", content=b"x", headers={"Content-Type": "text/plain"}, expect=415
    )


async def test_staff_measures_take_person_ids_of_the_trust(demo: Stack, api: Api) -> None:
    plan = await new_plan(api)
    mid = await new_measure(
        api,
        plan,
        name="Confidence teaching reasoning",
        kind="staff_confidence",
        subjects="staff",
        scale={"min": 1, "max": 5},
    )
    url = f"/v1/measures/{mid}/observations"
    await api.post(
        url,
        "n-head",
        {
            "observations": [
                {"person_id": person_id("n-t1"), "phase": "baseline", "value": 2},
                {"person_id": person_id("n-t2"), "phase": "baseline", "value": 3},
            ]
        },
    )
    bad = await api.post(
        url,
        "n-head",
        {
            "observations": [
                {"person_id": person_id("r-t1"), "phase": "short_term", "value": 4},
                {"pupil_id": "A1", "phase": "short_term", "value": 4},
            ]
        },
        expect=422,
    )
    assert [e["loc"] for e in bad["errors"]] == [
        "body.observations.1.pupil_id",
        "body.observations.0.person_id",
    ]
    keys = {o["subject_key"] for o in (await api.get(url, "n-head"))["items"]}
    assert keys == {person_id("n-t1"), person_id("n-t2")}


async def test_the_plan_rules_decide_who_sees_and_records(demo: Stack, api: Api) -> None:
    plan = await new_plan(api)
    mid = await new_measure(api, plan)
    base, url = f"{PLANS}/{plan}/measures", f"/v1/measures/{mid}/observations"
    one = {"observations": [pupil("A1", "baseline", 10)]}
    await api.post(url, "n-head", one)
    # Staff and other trusts' people: 403 / 404 before anything is shown.
    await api.call("GET", base, "n-t1", expect=403)
    await api.call("GET", url, "n-t1", expect=403)
    await api.call("POST", url, "n-t1", json=one, expect=403)
    for outsider in ("r-admin", "s-head"):
        await api.call("GET", base, outsider, expect=404)
        await api.call("GET", f"{base}/{mid}", outsider, expect=404)
        await api.call("GET", url, outsider, expect=404)
        await api.call("POST", url, outsider, json=one, expect=404)
        await api.call("POST", base, outsider, json=measure_body(name="y"), expect=404)
    # Governors of the school read the measure but neither change it nor read subject rows.
    assert (await api.get(f"{base}/{mid}", "n-gov"))["observations"]["baseline"] == 1
    await api.call("POST", base, "n-gov", json=measure_body(name="z"), expect=403)
    await api.call("GET", url, "n-gov", expect=403)
    await api.call("POST", url, "n-gov", json=one, expect=403)
    # The trust admin sees and records everything of the trust.
    assert len((await api.get(url, "admin"))["items"]) == 1
    # A measure under another plan's path is not found.
    other = await new_plan(api)
    await api.call("GET", f"{PLANS}/{other}/measures/{mid}", "n-head", expect=404)


async def test_observations_page_by_cursor_and_filter_by_phase(demo: Stack, api: Api) -> None:
    plan = await new_plan(api)
    mid = await new_measure(api, plan)
    url = f"/v1/measures/{mid}/observations"
    await api.post(
        url,
        "n-head",
        {
            "observations": [
                *(pupil(f"P{i}", "baseline", i) for i in range(7)),
                *(pupil(f"P{i}", "medium_term", i + 5) for i in range(4)),
            ]
        },
    )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "phase": "baseline"}
        if cursor:
            params["cursor"] = cursor
        page = await api.get(url, "n-head", params=params)
        seen += [o["id"] for o in page["items"]]
        assert all(o["phase"] == "baseline" for o in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7 and seen == sorted(seen)
    medium = (await api.get(url, "n-head", params={"phase": "medium_term"}))["items"]
    assert len(medium) == 4
    one = await api.get(url, "n-head", params={"subject_key": medium[0]["subject_key"]})
    assert {o["phase"] for o in one["items"]} == {"baseline", "medium_term"}

    # A phase uploaded by mistake goes, with the measure's ETag in If-Match.
    measure_url = f"{PLANS}/{plan}/measures/{mid}"
    etag = (await api.call("GET", measure_url, "n-head")).headers["etag"]
    gone = f"{url}?phase=medium_term"
    await api.call("DELETE", gone, "n-head", expect=428)
    await api.call("DELETE", gone, "n-head", headers={"If-Match": '"stale"'}, expect=412)
    await api.call("DELETE", gone, "n-gov", headers={"If-Match": etag}, expect=403)
    await api.call("DELETE", gone, "r-admin", headers={"If-Match": etag}, expect=404)
    await api.call("DELETE", gone, "n-head", headers={"If-Match": etag}, expect=204)
    assert (await api.get(measure_url, "n-head"))["observations"] == {
        "baseline": 7,
        "short_term": 0,
        "medium_term": 0,
    }


async def test_pseudonyms_agree_within_a_trust_and_differ_between_trusts(
    demo: Stack, api: Api
) -> None:
    """Two first uploads of a trust at once agree on its secret; another trust's secret gives
    another pseudonym for the same pupil id, so trusts cannot link pupils."""
    plan = await new_plan(api)
    first, second = await new_measure(api, plan), await new_measure(api, plan, name="Other")
    one = {"observations": [pupil("A123456789012", "baseline", 20)]}
    headers = await api.headers("n-head")
    responses = await asyncio.gather(
        *(
            demo.gateway.post(f"/v1/measures/{m}/observations", json=one, headers=headers)
            for m in (first, second)
        )
    )
    assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
    keys = [
        (await api.get(f"/v1/measures/{m}/observations", "n-head"))["items"][0]["subject_key"]
        for m in (first, second)
    ]
    assert keys[0] == keys[1]

    activity = await api.create_activity("r-admin", school_ids=[str(RIVERSIDE_HIGH)])
    foreign_plan = str((await api.post(PLANS, "r-admin", plan_body(activity["id"])))["id"])
    foreign = await new_measure(api, foreign_plan, "r-admin")
    await api.post(f"/v1/measures/{foreign}/observations", "r-admin", one)
    theirs = (await api.get(f"/v1/measures/{foreign}/observations", "r-admin"))["items"]
    assert theirs[0]["subject_key"] != keys[0]
    async with demo.session("evaluation") as session:
        assert await session.scalar(select(func.count()).select_from(PseudonymSecret)) == 2


async def test_the_same_upload_sent_twice_at_once_is_stored_once(demo: Stack, api: Api) -> None:
    mid = await new_measure(api, await new_plan(api))
    batch = {"observations": [pupil(f"Q{i}", "baseline", i) for i in range(50)]}
    headers = await api.headers("n-head")
    responses, _ = await race(
        3,
        lambda: demo.gateway.post(f"/v1/measures/{mid}/observations", json=batch, headers=headers),
    )
    one_winner(responses)
    assert await count(demo, Observation) == 50
