"""Right to erasure: a member's place in the study becomes an anonymous former member, their
name leaves the group's notes, and the record (observations, hours) keeps its shape."""

from __future__ import annotations

from sqlalchemy import text

from cpd_common.events import catalogue
from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_local.stack import Stack

from .conftest import Api, days_ago, member_ids, outbox

ERASED = PEOPLE_BY_KEY["n-t2"]  # Sam Patel


async def test_erasure_replaces_membership_with_a_former_member(demo: Stack, api: Api) -> None:
    study = await api.create_study(
        "n-t6", {"n-t1": "teacher", "n-t2": "observer", "n-t3": "observer"}
    )
    sid = study["id"]
    ids = member_ids(study)
    pupils = await api.add_case_pupils(sid, "n-t6")
    await api.post(f"/{sid}/start", "n-t6", expect=200)
    lesson = await api.plan_lesson(sid, "n-t6", ids["n-t1"])
    await api.predict_all(sid, lesson, pupils, "n-t2")
    base = f"/{sid}/research-lessons/{lesson['id']}"
    await api.post(base + "/taught", "n-t1", {"taught_on": days_ago(1)}, expect=200)
    obs = await api.post(
        base + "/observations",
        "n-t2",
        {
            "stage_id": lesson["stages"][0]["id"],
            "case_pupil_id": pupils[0]["id"],
            "response": "Pointed at the wall",
            "outcome": "partly",
            "notes": "Sam Patel sat beside A for this stage.",
        },
    )
    interview = await api.post(
        base + "/interviews",
        "n-t3",
        {"case_pupil_id": pupils[0]["id"], "notes": "A said SAM PATEL helped."},
    )
    await api.post(
        f"/{sid}/time-records",
        "n-t6",
        {
            "kind": "observing",
            "held_on": days_ago(1),
            "research_lesson_id": lesson["id"],
            "attendance": [
                {"member_id": ids["n-t2"], "minutes": 60},
                {"member_id": ids["n-t3"], "minutes": 60},
            ],
        },
    )

    resp = await demo.gateway.post(
        f"/v1/people/{ERASED.id}/erase", headers=await api.headers("admin")
    )
    assert resp.status_code == 202, resp.text
    await demo.settle()

    members = {m["id"]: m for m in (await api.get(f"/{sid}/members", "n-t6"))["items"]}
    former = members[ids["n-t2"]]
    assert former == {
        **former,
        "person_id": None,
        "name": "Former member",
        "former_member": True,
        "role": "observer",
    }
    assert {m["name"] for m in members.values()} == {
        "Daniel Reid",
        "Jess Okafor",
        "Former member",
        "Hannah Lewis",
    }
    seen = await api.get(f"{base}/observations/{obs['id']}", "n-t6")
    assert seen["observer_name"] == "Former member"
    assert seen["notes"] == "a former member sat beside A for this stage."
    assert (await api.get(f"{base}/interviews/{interview['id']}", "n-t6"))[
        "notes"
    ] == "A said a former member helped."
    grid = await api.get(base + "/predictions", "n-t6")
    assert {p["recorded_by_name"] for p in grid["items"]} == {"Former member"}
    hours = {m["member_id"]: m for m in (await api.get(f"/{sid}/hours", "n-t6"))["members"]}
    assert (
        hours[ids["n-t2"]]["name"],
        hours[ids["n-t2"]]["person_id"],
        hours[ids["n-t2"]]["hours"],
    ) == ("Former member", None, 1.0)

    async with demo.session("lessonstudy") as session:
        assert (
            await session.scalar(
                text("SELECT count(*) FROM people WHERE id = :id"), {"id": ERASED.id}
            )
            == 0
        )
        assert (
            await session.scalar(
                text("SELECT count(*) FROM study_members WHERE person_id = :id"), {"id": ERASED.id}
            )
            == 0
        )
        leftovers = await session.scalar(
            text(
                "SELECT count(*) FROM observations WHERE notes ILIKE '%sam patel%' OR response ILIKE '%sam patel%'"
            )
        )
        assert leftovers == 0
    # The erased person cannot be added again (they are gone from the directory).
    await api.call(
        "POST",
        f"/{sid}/members",
        "n-t6",
        json={"person_id": str(ERASED.id), "role": "observer"},
        expect=422,
    )

    # Later events carry the former member without a person id.
    await api.post(
        base + "/discussion",
        "n-t3",
        {
            "reflections": [{"case_pupil_id": p["id"], "learning": "learnt"} for p in pupils],
            "what_to_change": "c",
            "next_lesson_plan": "n",
        },
    )
    await api.post(base + "/complete", "n-t3", expect=200)
    [event] = [
        e
        for e in await outbox(demo, catalogue.LessonCompleted.event_type)
        if e["data"]["study_id"] == sid
    ]
    hours_out = {h["person_id"]: h["hours"] for h in event["data"]["hours"]}
    assert hours_out[None] == 1.0
    assert str(ERASED.id) not in hours_out


NAMED = PEOPLE_BY_KEY["n-t5"]  # Grace Kim: named in a study she never joined


async def test_erasure_takes_the_name_out_of_every_free_text_field_of_the_trust(
    demo: Stack, api: Api
) -> None:
    from cpd_common.erasure import FORMER_MEMBER, name_pattern
    from cpd_lessonstudy.members.service import FREE_TEXT

    from .lesson_helpers import study_with_lesson, teach

    study, pupils, lesson, ids = await study_with_lesson(api)
    sid = study["id"]
    base = await teach(api, study, lesson, pupils)
    await api.post(
        base + "/observations",
        "n-t2",
        {
            "stage_id": lesson["stages"][0]["id"],
            "case_pupil_id": pupils[0]["id"],
            "response": "Explained it",
            "outcome": "met",
        },
    )
    await api.post(base + "/interviews", "n-t3", {"case_pupil_id": pupils[0]["id"], "notes": "x"})
    await api.post(
        base + "/discussion",
        "n-t2",
        {"reflections": [{"case_pupil_id": pupils[0]["id"], "learning": "x"}]},
    )
    await api.post(
        f"/{sid}/time-records",
        "n-t6",
        {
            "kind": "meeting",
            "held_on": days_ago(1),
            "attendance": [{"member_id": ids["n-t1"], "minutes": 30}],
        },
    )
    name = NAMED.name
    pattern = name_pattern(name)
    async with demo.session("lessonstudy") as session:
        # Findings and an open-house lesson come at the end of a study; written directly.
        for table in ("study_findings", "open_house_lessons"):
            if table == "open_house_lessons":
                extra, values = ", held_on, audience_count", ", current_date, 3"
            else:
                extra = ", practices, what_worked, to_share"
                values = ", '[]'::jsonb, '[]'::jsonb, '[]'::jsonb"
            await session.execute(
                text(
                    f"INSERT INTO {table} (id, trust_id, study_id{extra}) "
                    f"SELECT gen_random_uuid(), trust_id, id{values} FROM lesson_studies "
                    "WHERE id = :s"
                ),
                {"s": sid},
            )
        # Every free-text column of every row names the person (as people write: in a
        # sentence, in capitals).
        for col in FREE_TEXT:
            value = f"Talked it through with {name.upper()} after school"
            if col.json:
                await session.execute(
                    text(f"UPDATE {col.table} SET {col.column} = CAST(:v AS jsonb)"),
                    {"v": f'["{value}"]'},
                )
            else:
                await session.execute(
                    text(f"UPDATE {col.table} SET {col.column} = :v"), {"v": value}
                )
        await session.commit()

    async def naming() -> dict[str, int]:
        out = {}
        async with demo.session("lessonstudy") as session:
            for col in FREE_TEXT:
                as_text = f"{col.column}::text" if col.json else col.column
                out[f"{col.table}.{col.column}"] = int(
                    (
                        await session.execute(
                            text(f"SELECT count(*) FROM {col.table} WHERE {as_text} ~* :p"),
                            {"p": pattern},
                        )
                    ).scalar_one()
                )
        return out

    assert [c for c, n in (await naming()).items() if n == 0] == []
    resp = await demo.gateway.post(
        f"/v1/people/{NAMED.id}/erase", headers=await api.headers("admin")
    )
    assert resp.status_code == 202, resp.text
    await demo.settle()

    assert {c: n for c, n in (await naming()).items() if n} == {}
    for path in (
        f"/{sid}",
        f"/{sid}/case-pupils/{pupils[0]['id']}",
        base,
        base + "/predictions",
        base + "/observations",
        base + "/interviews",
        base + "/discussion",
        f"/{sid}/time-records",
    ):
        got = await api.call("GET", path, "n-t6")
        assert name.lower() not in got.text.lower(), (path, got.text)
    study_now = await api.get(f"/{sid}", "n-t6")
    assert study_now["title"] == f"Talked it through with {FORMER_MEMBER} after school"
