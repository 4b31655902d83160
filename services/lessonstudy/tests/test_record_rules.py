"""Rules that keep a lesson study's record true, one rule per test: time records (no future
dates, only this study's lessons, only current members), research lessons taught in order,
at most six case pupils, and case pupils that stay once the study started or they were
observed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from cpd_local.stack import Stack

from .conftest import Api, days_ago, member_ids, new_id
from .lesson_helpers import GROUP, study_with_lesson, teach


async def _count(demo: Stack, sql: str, **params: Any) -> int:
    async with demo.session("lessonstudy") as session:
        return int(await session.scalar(text(sql), params) or 0)


async def _time_records(demo: Stack, study_id: str) -> int:
    return await _count(demo, "SELECT count(*) FROM time_records WHERE study_id = :id", id=study_id)


def _time_body(ids: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "kind": "meeting",
        "held_on": days_ago(1),
        "attendance": [{"member_id": ids["n-t1"], "minutes": 60}],
        **extra,
    }


# ---- time records -----------------------------------------------------------------------


async def test_time_cannot_be_recorded_for_a_future_date(demo: Stack, api: Api) -> None:
    study, _, _, ids = await study_with_lesson(api)
    resp = await api.call(
        "POST",
        f"/{study['id']}/time-records",
        "n-t6",
        json=_time_body(ids, held_on=days_ago(-1)),
        expect=422,
    )
    assert resp.json()["errors"] == [{"loc": "body.held_on", "msg": "in the future"}]
    assert await _time_records(demo, study["id"]) == 0, "a refused time record stores nothing"
    # Today is not the future.
    await api.post(f"/{study['id']}/time-records", "n-t6", _time_body(ids, held_on=days_ago(0)))
    assert await _time_records(demo, study["id"]) == 1


async def test_time_cannot_be_linked_to_another_studys_lesson(demo: Stack, api: Api) -> None:
    study, _, lesson, ids = await study_with_lesson(api)
    other, _, other_lesson, _ = await study_with_lesson(api, title="Another study of fractions")
    for lesson_id in (other_lesson["id"], new_id()):
        resp = await api.call(
            "POST",
            f"/{study['id']}/time-records",
            "n-t6",
            json=_time_body(ids, kind="planning", research_lesson_id=lesson_id),
            expect=422,
        )
        assert resp.json()["errors"] == [
            {"loc": "body.research_lesson_id", "msg": "not a lesson of this study"}
        ]
    assert await _time_records(demo, study["id"]) == 0
    assert await _time_records(demo, other["id"]) == 0
    await api.post(
        f"/{study['id']}/time-records",
        "n-t6",
        _time_body(ids, kind="planning", research_lesson_id=lesson["id"]),
    )
    assert await _time_records(demo, study["id"]) == 1


async def test_time_is_recorded_only_for_members_of_the_study(demo: Stack, api: Api) -> None:
    study, _, _, ids = await study_with_lesson(api)
    # n-t4 is a member of the other study only (with its own membership id).
    other = await api.create_study("n-t6", {"n-t4": "teacher"}, title="A second study")
    outsider = member_ids(other)["n-t4"]
    resp = await api.call(
        "POST",
        f"/{study['id']}/time-records",
        "n-t6",
        json={
            "kind": "meeting",
            "held_on": days_ago(1),
            "attendance": [
                {"member_id": ids["n-t1"], "minutes": 60},
                {"member_id": outsider, "minutes": 60},
                {"member_id": new_id(), "minutes": 30},
            ],
        },
        expect=422,
    )
    assert resp.json()["errors"] == [
        {"loc": "body.attendance.1.member_id", "msg": "not a (current) member of this study"},
        {"loc": "body.attendance.2.member_id", "msg": "not a (current) member of this study"},
    ]
    assert await _time_records(demo, study["id"]) == 0, "nobody's minutes are kept"
    hours = await api.get(f"/{study['id']}/hours", "n-t6")
    assert hours["total_hours"] == 0
    # Someone who is not a member cannot record time for the group at all.
    await api.call("POST", f"/{study['id']}/time-records", "n-t4", json=_time_body(ids), expect=404)
    assert await _time_records(demo, study["id"]) == 0


# ---- research lessons in order -------------------------------------------------------------


async def _complete(api: Api, study_id: str, base: str, pupils: list[dict[str, Any]]) -> None:
    await api.post(
        base + "/discussion",
        "n-t6",
        {
            "reflections": [
                {"case_pupil_id": p["id"], "learning": f"{p['label']} needed talk time."}
                for p in pupils
            ],
            "what_to_change": "Model the explanation first.",
            "next_lesson_plan": "Start with a worked example.",
        },
    )
    await api.post(base + "/complete", "n-t6", expect=200)


async def test_research_lesson_cannot_be_taught_before_the_previous_one(
    demo: Stack, api: Api
) -> None:
    study, pupils, first, ids = await study_with_lesson(api)
    await api.predict_all(study["id"], first, pupils, "n-t6")
    base = f"/{study['id']}/research-lessons/{first['id']}"
    await api.post(base + "/taught", "n-t1", {"taught_on": days_ago(10)}, expect=200)
    await _complete(api, study["id"], base, pupils)
    second = await api.plan_lesson(study["id"], "n-t6", ids["n-t2"])
    await api.predict_all(study["id"], second, pupils, "n-t6")
    base2 = f"/{study['id']}/research-lessons/{second['id']}"
    resp = await api.call(
        "POST", base2 + "/taught", "n-t2", json={"taught_on": days_ago(11)}, expect=422
    )
    problem = resp.json()
    assert problem["errors"] == [
        {"loc": "body.taught_on", "msg": "before the previous research lesson"}
    ]
    assert "Research lesson 2 cannot be taught before lesson 1" in problem["detail"]
    stored = await _count(
        demo,
        "SELECT count(*) FROM research_lessons WHERE id = :id AND status = 'planned' "
        "AND taught_on IS NULL",
        id=second["id"],
    )
    assert stored == 1, "the refused lesson stays planned"
    # The same day as lesson 1 is allowed.
    taught = await api.post(base2 + "/taught", "n-t2", {"taught_on": days_ago(10)}, expect=200)
    assert (taught["status"], taught["taught_on"]) == ("taught", days_ago(10))


# ---- case pupils -------------------------------------------------------------------------


def _pupil(label: str) -> dict[str, str]:
    return {
        "label": label,
        "profile": "Typical of middle attainers.",
        "starting_point": "Recognises halves.",
        "success_criteria": "Explains an equivalence in a sentence.",
    }


async def test_a_study_follows_at_most_six_case_pupils(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", GROUP)
    for label in "ABCDEF":
        await api.post(f"/{study['id']}/case-pupils", "n-t6", _pupil(label))
    resp = await api.call(
        "POST", f"/{study['id']}/case-pupils", "n-t6", json=_pupil("G"), expect=409
    )
    assert resp.json()["type"].endswith("/too-many-case-pupils")
    assert "at most 6 case pupils" in resp.json()["detail"]
    count = await _count(
        demo, "SELECT count(*) FROM case_pupils WHERE study_id = :id", id=study["id"]
    )
    assert count == 6


async def test_case_pupils_cannot_be_removed_after_the_study_started(demo: Stack, api: Api) -> None:
    study, pupils, _, _ = await study_with_lesson(api, start=False)
    url = f"/{study['id']}/case-pupils/{pupils[2]['id']}"
    # While planning a pupil may go (with their predictions).
    await api.delete(url, "n-t6", expect=204)
    await api.post(f"/{study['id']}/start", "n-t6", expect=200)
    resp = await api.delete(f"/{study['id']}/case-pupils/{pupils[0]['id']}", "n-t6", expect=409)
    assert resp.json()["type"].endswith("/case-pupil-in-use")
    assert "only be removed while the study is being planned" in resp.json()["detail"]
    labels = (await api.get(f"/{study['id']}/case-pupils", "n-t6"))["items"]
    assert [p["label"] for p in labels] == ["A", "B"]


async def test_an_observed_case_pupil_is_never_removed(demo: Stack, api: Api) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await teach(api, study, lesson, pupils)
    await api.post(
        base + "/observations",
        "n-t2",
        {
            "stage_id": lesson["stages"][0]["id"],
            "case_pupil_id": pupils[0]["id"],
            "response": "Pointed at the wall.",
            "outcome": "met",
        },
    )
    url = f"/{study['id']}/case-pupils/{pupils[0]['id']}"
    await api.delete(url, "n-t6", expect=409)
    # Even if the study were back in planning (no API does that: this guards the record
    # itself), the observed pupil stays; an unobserved one could go.
    async with demo.session("lessonstudy") as session, session.begin():
        await session.execute(
            text("UPDATE lesson_studies SET status = 'planning' WHERE id = :id"),
            {"id": study["id"]},
        )
    resp = await api.delete(url, "n-t6", expect=409)
    assert "has been observed and is part of the record" in resp.json()["detail"]
    observed = await _count(
        demo,
        "SELECT count(*) FROM observations WHERE case_pupil_id = :id",
        id=pupils[0]["id"],
    )
    assert observed == 1
    await api.delete(f"/{study['id']}/case-pupils/{pupils[1]['id']}", "n-t6", expect=204)
