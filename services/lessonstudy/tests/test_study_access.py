"""Who may see and change a lesson study: case pupils are labels, never names; members,
leaders and admins by role; nothing across trusts; observations stay their observer's own;
ETags and idempotent creates."""

from __future__ import annotations

from sqlalchemy import text

from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

from .conftest import Api, member_ids, new_id
from .lesson_helpers import GROUP, study_with_lesson, teach


async def test_case_pupils_are_labels_never_names(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", GROUP)
    path = f"/{study['id']}/case-pupils"
    await api.add_case_pupils(study["id"], "n-t6")
    fourth = {"label": "ABCD", "profile": "Typical of pupils new to English."}
    resp = await api.call("POST", path, "n-t6", json=fourth, expect=422)
    assert resp.json()["errors"] == [
        {
            "loc": "body.label",
            "msg": "Value error, a label is 1-3 letters or digits (e.g. A, B, C), never a pupil's name",
        }
    ]
    name = await api.call("POST", path, "n-t6", json={**fourth, "label": "Max"}, expect=422)
    assert "looks like a first name" in name.json()["detail"]
    email = await api.call(
        "POST",
        path,
        "n-t6",
        json={"label": "D", "profile": "Contact parent at mum@example.com"},
        expect=422,
    )
    assert email.json()["errors"][0]["loc"] == "body.profile"
    assert "an email address" in email.json()["errors"][0]["msg"]
    upn = await api.call(
        "POST",
        path,
        "n-t6",
        json={"label": "D", "profile": "Pupil A12345678901B, lower attainer"},
        expect=422,
    )
    assert "unique pupil number" in upn.json()["detail"]
    dob = await api.call(
        "POST",
        path,
        "n-t6",
        json={"label": "D", "profile": "Summer born", "starting_point": "DOB 03/07/2016"},
        expect=422,
    )
    assert dob.json()["errors"][0]["loc"] == "body.starting_point"
    fourth_ok = await api.post(
        path, "n-t6", {"label": "d", "profile": "Typical of pupils new to English."}
    )
    assert (fourth_ok["label"], fourth_ok["position"]) == ("D", 4)
    await api.call("POST", path, "n-t6", json={"label": "D", "profile": "Another."}, expect=409)
    labels = [p["label"] for p in (await api.get(path, "n-t2"))["items"]]
    assert labels == ["A", "B", "C", "D"]
    async with demo.session("lessonstudy") as session:
        stored = await session.scalar(
            text("SELECT count(*) FROM case_pupils WHERE study_id = :id"), {"id": study["id"]}
        )
    assert stored == 4


async def test_who_sees_a_study(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", {**GROUP, "s-t1": "knowledgeable_other"})
    sid = study["id"]
    paths = [
        "",
        "/members",
        "/case-pupils",
        "/research-lessons",
        "/report",
        "/report.md",
        "/process-health",
        "/hours",
        "/time-records",
    ]

    # Members (including the knowledgeable other from Southbank) read it.
    for who in ("n-t6", "n-t2", "s-t1"):
        assert (await api.get(f"/{sid}", who))["id"] == sid
    # A teacher of the same school who is not a member and Southbank's leader (school not
    # involved) get 404, exactly as for a missing study (another trust: the next test).
    for who in ("n-t4", "s-head"):
        for p in paths:
            resp = await api.call("GET", f"/{sid}{p}", who, expect=404)
            assert resp.headers["content-type"].startswith("application/problem+json")
        await api.call(
            "PATCH", f"/{sid}", who, json={"title": "x"}, headers={"If-Match": "*"}, expect=404
        )
        await api.call(
            "POST", f"/{sid}/case-pupils", who, json={"label": "Z", "profile": "p"}, expect=404
        )
        assert sid not in [s["id"] for s in (await api.get("", who))["items"]]

    # The school's leader and the trust admin read, but only members write.
    for who in ("n-head", "admin"):
        for p in paths:
            await api.call("GET", f"/{sid}{p}", who)
        await api.call(
            "PATCH", f"/{sid}", who, json={"title": "x"}, headers={"If-Match": "*"}, expect=403
        )
        await api.call(
            "POST", f"/{sid}/case-pupils", who, json={"label": "Z", "profile": "p"}, expect=403
        )
        assert sid in [s["id"] for s in (await api.get("", who))["items"]]
    # Governors never see lesson studies.
    await api.call("GET", f"/{sid}", "n-gov", expect=403)
    await api.call("GET", "", "n-gov", expect=403)

    # Filters.
    assert [
        s["id"] for s in (await api.get(f"?member={PEOPLE_BY_KEY['s-t1'].id}", "admin"))["items"]
    ] == [sid]
    assert (await api.get(f"?school_id={SOUTHBANK}", "admin"))["items"] == []
    assert (
        len(
            (
                await api.get(
                    f"?school_id={NORTHFIELD}&status=planning&subject=mathematics", "admin"
                )
            )["items"]
        )
        == 1
    )
    assert (await api.get("?status=completed", "admin"))["items"] == []


async def test_another_trust_cannot_see_or_touch_a_lesson_study(demo: Stack, api: Api) -> None:
    """Tenant isolation: to another trust's admin, every path of a study answers 404 exactly
    like a study that does not exist, writes change nothing, and lists leave it out."""
    study = await api.create_study("n-t6", GROUP)
    sid = study["id"]
    missing = new_id()
    for p in STUDY_PATHS:
        theirs = await api.call("GET", f"/{sid}{p}", "r-admin", expect=None)
        absent = await api.call("GET", f"/{missing}{p}", "r-admin", expect=None)
        assert theirs.status_code == absent.status_code == 404, (
            f"tenant isolation: GET {p or '/'} of another trust's study must be 404 like a "
            f"missing one (got {theirs.status_code})"
        )
        assert theirs.json()["type"] == absent.json()["type"], p
    for method, path, body in (
        ("PATCH", "", {"title": "Renamed by another trust"}),
        ("POST", "/case-pupils", {"label": "Z", "profile": "p"}),
        ("POST", "/start", None),
    ):
        resp = await api.call(
            method, f"/{sid}{path}", "r-admin", json=body, headers={"If-Match": "*"}, expect=None
        )
        assert resp.status_code == 404, (
            f"tenant isolation: {method} {path or '/'} on another trust's study must be 404 "
            f"(got {resp.status_code})"
        )
    listed = [s["id"] for s in (await api.get("", "r-admin"))["items"]]
    assert sid not in listed, "tenant isolation: another trust's list must not include the study"
    assert (await api.get("/process-health", "r-admin"))["studies"] == [], (
        "tenant isolation: another trust's process health must not count the study"
    )
    after = await api.get(f"/{sid}", "n-t6")
    assert (after["title"], after["status"]) == (study["title"], "planning")
    assert (await api.get(f"/{sid}/case-pupils", "n-t6"))["items"] == []


STUDY_PATHS = [
    "",
    "/members",
    "/case-pupils",
    "/research-lessons",
    "/report",
    "/report.md",
    "/process-health",
    "/hours",
    "/time-records",
]


async def test_members_and_schools(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", GROUP)
    sid = study["id"]
    # A Southbank teacher cannot be an observer of a Northfield study, only a knowledgeable other.
    bad = await api.call(
        "POST",
        f"/{sid}/members",
        "n-t6",
        json={"person_id": str(PEOPLE_BY_KEY["s-t5"].id), "role": "observer"},
        expect=422,
    )
    assert "knowledgeable_other" in bad.json()["detail"]
    ko = await api.post(
        f"/{sid}/members",
        "n-t6",
        {"person_id": str(PEOPLE_BY_KEY["s-t5"].id), "role": "knowledgeable_other"},
    )
    assert ko["name"] == "Aisha Khan"
    await api.call(
        "POST",
        f"/{sid}/members",
        "n-t6",
        json={"person_id": str(PEOPLE_BY_KEY["s-t5"].id), "role": "knowledgeable_other"},
        expect=409,
    )
    # Another trust's person is unknown here.
    await api.call(
        "POST",
        f"/{sid}/members",
        "n-t6",
        json={"person_id": str(PEOPLE_BY_KEY["r-t1"].id), "role": "knowledgeable_other"},
        expect=422,
    )
    # Creating a study for another trust's school, or only for someone else's school, is refused.
    await api.call(
        "POST",
        "",
        "n-t6",
        json={"title": "t", "school_ids": [str(SOUTHBANK)], "learning_goal": "g"},
        expect=422,
    )
    await api.call(
        "POST",
        "",
        "r-admin",
        json={"title": "t", "school_ids": [str(NORTHFIELD)], "learning_goal": "g"},
        expect=422,
    )
    await api.delete(f"/{sid}/members/{ko['id']}", "n-t6", expect=204)
    nul = await api.call(
        "POST",
        "",
        "n-t6",
        json={"title": "a\x00b", "school_ids": [str(NORTHFIELD)], "learning_goal": "g"},
        expect=422,
    )
    assert "NUL" in nul.json()["detail"]
    # Once someone has written predictions (or the cycles began) they stay on the record.
    ids = member_ids(study)
    pupils = await api.add_case_pupils(sid, "n-t6")
    lesson = await api.plan_lesson(sid, "n-t6", ids["n-t1"])
    await api.predict_all(sid, lesson, pupils, "n-t3")
    kept = await api.delete(f"/{sid}/members/{ids['n-t3']}", "n-t6", expect=409)
    assert kept.json()["type"].endswith("/member-has-record")
    await api.delete(f"/{sid}/members/{ids['n-t1']}", "n-t6", expect=409)
    await api.delete(f"/{sid}/members/{ids['n-t2']}", "n-t6", expect=204)
    await api.post(f"/{sid}/start", "n-t6", expect=200)
    after_start = await api.delete(f"/{sid}/members/{ids['n-t6']}", "n-t6", expect=409)
    assert "while the study is being planned" in after_start.json()["detail"]


async def test_etags_and_idempotent_creates(demo: Stack, api: Api) -> None:
    study = await api.create_study("n-t6", GROUP)
    path = f"/{study['id']}"
    get = await api.call("GET", path, "n-t6")
    etag = get.headers["etag"]
    await api.call("PATCH", path, "n-t6", json={"title": "New title"}, expect=428)
    await api.call(
        "PATCH",
        path,
        "n-t6",
        json={"title": "New title"},
        headers={"If-Match": '"stale"'},
        expect=412,
    )
    changed = await api.call(
        "PATCH",
        path,
        "n-t6",
        json={"title": "New title", "planned_cycles": 4},
        headers={"If-Match": etag},
    )
    assert changed.json()["title"] == "New title" and changed.json()["planned_cycles"] == 4
    assert changed.headers["etag"] != etag
    await api.call(
        "PATCH", path, "n-t6", json={"title": "Again"}, headers={"If-Match": etag}, expect=412
    )
    await api.call(
        "PATCH", path, "n-t6", json={"title": None}, headers={"If-Match": "*"}, expect=422
    )

    body = {
        "title": "Idempotent",
        "school_ids": [str(NORTHFIELD)],
        "learning_goal": "Pupils will explain.",
    }
    key = {"Idempotency-Key": "create-study-1"}
    first = await api.call("POST", "", "n-t1", json=body, headers=key, expect=201)
    again = await api.call("POST", "", "n-t1", json=body, headers=key, expect=201)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == f"/v1/lesson-studies/{first.json()['id']}"
    await api.call("POST", "", "n-t1", json={**body, "title": "Other"}, headers=key, expect=409)


async def test_observations_are_the_observers_own(demo: Stack, api: Api) -> None:
    study, pupils, lesson, _ = await study_with_lesson(api)
    base = await teach(api, study, lesson, pupils)
    cell = {"stage_id": lesson["stages"][0]["id"], "case_pupil_id": pupils[1]["id"]}
    teacher = await api.call(
        "POST",
        base + "/observations",
        "n-t1",
        json={**cell, "response": "r", "outcome": "met"},
        expect=403,
    )
    assert teacher.json()["type"].endswith("/teacher-cannot-observe")
    mine = await api.post(
        base + "/observations",
        "n-t2",
        {**cell, "response": "Counted on fingers", "outcome": "partly"},
    )
    await api.post(
        base + "/observations", "n-t3", {**cell, "response": "Used the wall", "outcome": "met"}
    )
    await api.call(
        "POST",
        base + "/observations",
        "n-t2",
        json={**cell, "response": "again", "outcome": "met"},
        expect=409,
    )
    wrong = await api.call(
        "POST",
        base + "/observations",
        "n-t2",
        json={
            "stage_id": pupils[0]["id"],
            "case_pupil_id": cell["case_pupil_id"],
            "response": "r",
            "outcome": "met",
        },
        expect=422,
    )
    assert wrong.json()["errors"] == [
        {"loc": "body.stage_id", "msg": "not a stage of this research lesson"}
    ]
    one = f"{base}/observations/{mine['id']}"
    await api.call(
        "PATCH", one, "n-t3", json={"outcome": "met"}, headers={"If-Match": "*"}, expect=403
    )
    assert (await api.patch(one, "n-t2", {"outcome": "met", "notes": "On reflection"}))[
        "outcome"
    ] == "met"
    both = await api.get(base + f"/observations?case_pupil_id={cell['case_pupil_id']}", "n-head")
    assert sorted(o["observer_name"] for o in both["items"]) == ["Hannah Lewis", "Sam Patel"]
    assert (
        await api.get(
            base + f"/observations?observer_member_id={mine['observer_member_id']}", "n-t1"
        )
    )["items"][0]["id"] == mine["id"]
