"""Every "one X per Y" rule of lesson study holds under concurrency: the same request sent
several times at once makes one record (the study row is locked by every write and a unique
constraint backs each rule) and every other request gets a clear 409, never a 500."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from cpd_common.testing.concurrency import one_winner, race
from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_local.stack import Stack

from .conftest import Api, days_ago, member_ids
from .lesson_helpers import GROUP, study_with_lesson, teach

N = 8


async def _rows(demo: Stack, sql: str, **params: Any) -> int:
    async with demo.session("lessonstudy") as session:
        return int((await session.execute(text(sql), params)).scalar_one())


async def _race(api: Api, who: str, path: str, body: Any) -> Any:
    headers = await api.headers(who)
    url = "/v1/lesson-studies" + path
    responses, _ = await race(N, lambda: api.stack.gateway.post(url, headers=headers, json=body))
    return one_winner(responses)


async def test_one_membership_per_person_and_one_case_pupil_per_label(
    demo: Stack, api: Api
) -> None:
    study = await api.create_study("n-t6", GROUP)
    newcomer = {"person_id": str(PEOPLE_BY_KEY["n-t4"].id), "role": "observer"}
    await _race(api, "n-t6", f"/{study['id']}/members", newcomer)
    assert (
        await _rows(
            demo,
            "SELECT count(*) FROM study_members WHERE study_id = :s AND person_id = :p",
            s=study["id"],
            p=newcomer["person_id"],
        )
        == 1
    )

    pupil = {"label": "D", "profile": "Typical of the middle third; quiet in discussion."}
    await _race(api, "n-t6", f"/{study['id']}/case-pupils", pupil)
    assert (
        await _rows(
            demo,
            "SELECT count(*) FROM case_pupils WHERE study_id = :s AND label = 'D'",
            s=study["id"],
        )
        == 1
    )


async def test_one_research_lesson_per_cycle(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", GROUP)
    ids = member_ids(study)
    await api.add_case_pupils(study["id"], "n-t6")
    body = {"teacher_member_id": ids["n-t1"], "stages": [{"title": "Starter"}]}
    await _race(api, "n-t6", f"/{study['id']}/research-lessons", body)
    assert (
        await _rows(
            demo, "SELECT count(*) FROM research_lessons WHERE study_id = :s", s=study["id"]
        )
        == 1
    )


async def test_one_observation_per_cell_and_observer_and_one_discussion_per_lesson(
    demo: Stack, api: Api
) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await teach(api, study, lesson, pupils)
    cell = {
        "stage_id": lesson["stages"][0]["id"],
        "case_pupil_id": pupils[0]["id"],
        "response": "Pointed at the wall, then explained in a sentence.",
        "outcome": "met",
    }
    await _race(api, "n-t2", base + "/observations", cell)
    assert (
        await _rows(
            demo,
            "SELECT count(*) FROM observations WHERE stage_id = :st AND case_pupil_id = :p",
            st=cell["stage_id"],
            p=cell["case_pupil_id"],
        )
        == 1
    )

    start = {"reflections": [{"case_pupil_id": pupils[0]["id"], "learning": "A needed it."}]}
    await _race(api, "n-t2", base + "/discussion", start)
    assert (
        await _rows(demo, "SELECT count(*) FROM discussions WHERE lesson_id = :l", l=lesson["id"])
        == 1
    )
    assert (
        await _rows(
            demo,
            "SELECT count(*) FROM pupil_reflections r JOIN discussions d "
            "ON d.id = r.discussion_id WHERE d.lesson_id = :l",
            l=lesson["id"],
        )
        == 1
    )


async def test_one_open_house_lesson_per_study(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", GROUP)
    # Reaching "completed" takes the whole process (test_full_study walks it); here only
    # the race on the open-house record matters.
    async with demo.session("lessonstudy") as session:
        await session.execute(
            text("UPDATE lesson_studies SET status = 'completed' WHERE id = :s"),
            {"s": study["id"]},
        )
        await session.commit()
    body = {"held_on": days_ago(1), "audience_count": 12}
    await _race(api, "n-t1", f"/{study['id']}/open-house", body)
    assert (
        await _rows(
            demo, "SELECT count(*) FROM open_house_lessons WHERE study_id = :s", s=study["id"]
        )
        == 1
    )


async def test_one_membership_per_person_in_enquiries_and_learning_communities(
    demo: Stack, api: Api
) -> None:
    from .enquiry_helpers import COMMUNITIES, ENQUIRIES, create_community, create_enquiry

    enquiry = await create_enquiry(api, "n-t6", ["n-t1"])
    community = await create_community(api, "n-t6", ["n-t1"])
    newcomer = {"person_id": str(PEOPLE_BY_KEY["n-t4"].id)}
    headers = await api.headers("n-t6")
    for base, group, table, key in (
        (ENQUIRIES, enquiry, "enquiry_members", "enquiry_id"),
        (COMMUNITIES, community, "community_members", "community_id"),
    ):
        url = f"{base}/{group['id']}/members"
        responses, _ = await race(
            N, lambda u=url: api.stack.gateway.post(u, headers=headers, json=newcomer)
        )
        one_winner(responses)
        assert (
            await _rows(
                demo,
                f"SELECT count(*) FROM {table} WHERE {key} = :g AND person_id = :p",
                g=group["id"],
                p=newcomer["person_id"],
            )
            == 1
        )
