"""Anonymity as an attacker would test it (DESIGN.md section 7): reading every result view
before and after each single response while an audit is open gives nothing away; the
audience is frozen when the audit opens, so made-up or moved people cannot pad a group; in
a trust-wide audit a school leader sees only their school's cells and the trust total;
comments only for items enough people answered, after close, sorted by text."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from sqlalchemy import select

from cpd_audit.models import AuditResponse, OutboxEvent
from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK

INSTRUMENT = {
    "key": "differencing-check",
    "title": "Differencing check",
    "sections": [{"key": "s1", "title": "All of it"}],
    "items": [
        {"key": "p", "section": "s1", "type": "paired_scale", "text": "Coaching is valued."},
        {
            "key": "a",
            "section": "s1",
            "type": "agreement",
            "comment": True,
            "text": "CPD changes my teaching.",
        },
        {
            "key": "c",
            "section": "s1",
            "type": "single_choice",
            "text": "Best format",
            "choices": [{"key": "coach", "label": "Coaching"}, {"key": "talk", "label": "Talk"}],
        },
        {"key": "f", "type": "free_text", "required": False, "text": "Anything else?"},
    ],
}
VIEWERS = ("admin", "n-head", "n-t1", "n-gov")
PROGRESS = {"audit_id", "title", "status", "released", "audience_size", "responses"}


def answers(index: int) -> dict[str, Any]:
    return {
        "p": {"values": 5, "practice": 1 + index % 5},
        "a": {"score": 1 + index % 5, "comment": f"secret {index}"},
        "c": {"choice": "coach" if index % 2 else "talk"},
        "f": {"text": f"only I would write {index}"},
    }


async def every_view(
    kit: Any, audit_id: str, earlier_id: str, answered: tuple[str, ...] = ()
) -> dict[tuple[str, str], Any]:
    """What each viewer gets from every view of the audit's results, with the only figures
    allowed to move (the whole audit's response count and rate) taken out."""
    base = f"/v1/audits/{audit_id}"
    views = [
        "/results",
        "/results?by=staff_group",
        "/results?by=school",
        "/results?by=leadership",
        "/results?by=school,staff_group",
        "/results?by=department",
        "/results/chart.svg",
        "/results.csv",
        "/results.csv?by=staff_group",
        f"/compare/{earlier_id}",
        "/suggested-needs",
        "/responses/counts",
        "",
    ]
    seen: dict[tuple[str, str], Any] = {}
    for who in VIEWERS:
        for view in views:
            resp = await kit.gw.get(base + view, headers=await kit.h(who))
            body: Any = resp.text
            if resp.headers.get("content-type", "").startswith(
                ("application/json", "application/problem")
            ):
                body = resp.json()
                if resp.status_code == 200 and view.startswith(("/results", "/responses")):
                    # The only figures an open audit shows.
                    assert set(body) <= PROGRESS | {
                        "response_rate",
                        "min_group_size",
                        "by_school",
                        "by_staff_group",
                        "by_school_and_staff_group",
                    }, (who, view, body)
                    assert body.get("by_school") is None and body.get("by_staff_group") is None
                    body = {
                        k: v for k, v in body.items() if k not in ("responses", "response_rate")
                    }
                body.pop("request_id", None)
                if view == "" and resp.status_code == 200:
                    # The caller's own part (have I responded?) is theirs to see change.
                    own = body.pop("me")
                    assert own["responded"] is (who in answered), (who, own)
            assert resp.status_code in (200, 403, 409), (who, view, resp.status_code, resp.text)
            seen[(who, view)] = (resp.status_code, body)
    return seen


async def test_reading_around_each_response_of_an_open_audit_reveals_nothing(kit: Any) -> None:
    resp = await kit.gw.post("/v1/instruments", json=INSTRUMENT, headers=await kit.h("admin"))
    assert resp.status_code == 201, resp.text
    instrument = resp.json()["id"]
    northfield = {"kind": "school", "school_ids": [str(NORTHFIELD)]}
    earlier = await kit.create_audit(instrument_id=instrument, scope=northfield, k=3)
    await kit.transition(earlier["id"], "open")
    await kit.transition(earlier["id"], "close")
    audit = await kit.create_audit(instrument_id=instrument, scope=northfield, k=3)
    audience = (await kit.transition(audit["id"], "open"))["audience_size"]
    assert audience == len(kit.people(school=NORTHFIELD))
    async with kit.stack.session("audit") as session:
        events_before = (await session.scalars(select(OutboxEvent.seq))).all()

    baseline = await every_view(kit, audit["id"], earlier["id"])
    # Leaders and trust admins see the progress; staff and governors nothing before close;
    # the views with nothing but figures are 409 for everyone allowed to ask.
    assert baseline[("admin", "/results")][0] == 200
    assert baseline[("n-head", "/results?by=staff_group")][0] == 200
    assert baseline[("n-t1", "/results")][0] == 403
    assert baseline[("n-gov", "/results/chart.svg")][0] == 403
    for view in (
        "/results/chart.svg",
        "/results.csv",
        f"/compare/{earlier['id']}",
        "/suggested-needs",
    ):
        status, body = baseline[("admin", view)]
        assert status == 409 and "closes" in body["title"], view
    accept = await kit.gw.post(
        f"/v1/audits/{audit['id']}/suggested-needs/accept",
        json={"item_key": "p", "need_types": ["skills"]},
        headers=await kit.h("n-head"),
    )
    assert accept.status_code == 409, accept.text
    # One response at a time, every view read in between by every viewer.
    respondents = ["n-t1", "n-t2", "n-ta1", "n-s1", "n-head", "n-t3"]
    for index, who in enumerate(respondents, start=1):
        await kit.respond(audit["id"], who, answers(index))
        seen = await every_view(kit, audit["id"], earlier["id"], tuple(respondents[:index]))
        assert seen == baseline, who
        for viewer in ("admin", "n-head"):
            progress = await kit.results(audit["id"], by="staff_group", as_=viewer)
            assert progress["responses"] == index
            assert progress["response_rate"] == round(100 * index / audience, 1)
            assert progress["audience_size"] == audience
    # Nothing was published while it was open.
    async with kit.stack.session("audit") as session:
        assert (await session.scalars(select(OutboxEvent.seq))).all() == events_before

    # Closed: every view appears; the audit never reopens nor takes another response.
    await kit.transition(audit["id"], "close")
    results = await kit.results(audit["id"], as_="n-t1")
    assert results["status"] == "closed" and results["respondents"] == 6
    assert kit.item(results, "p")["mean_values"] == 5.0
    assert kit.item(results, "a")["comments"] == sorted(f"secret {i}" for i in range(1, 7))
    for view in (
        "/results/chart.svg",
        "/results.csv",
        f"/compare/{earlier['id']}",
        "/suggested-needs",
    ):
        got = await kit.gw.get(f"/v1/audits/{audit['id']}{view}", headers=await kit.h("admin"))
        assert got.status_code == 200, (view, got.text)
    await kit.transition(audit["id"], "open", expect=409)
    await kit.respond(audit["id"], "n-t4", answers(9), expect=409)
    await kit.respond(audit["id"], "n-t1", answers(9), expect=409)


async def test_the_audience_is_frozen_when_the_audit_opens(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    paired = {str(n): {"values": 4, "practice": 2} for n in range(1, 9)}
    audit = await kit.create_audit(
        instrument_id=principles,
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        groups=["support"],
        k=3,
    )
    opened = await kit.transition(audit["id"], "open")
    assert opened["audience_size"] == 2  # Northfield's two support staff
    admin = await kit.h("admin")

    async def change(person_key: str, **fields: Any) -> None:
        url = f"/v1/people/{PEOPLE_BY_KEY[person_key].id}"
        etag = (await kit.gw.get(url, headers=admin)).headers["etag"]
        done = await kit.gw.patch(url, json=fields, headers={**admin, "If-Match": etag})
        assert done.status_code == 200, done.text

    # After opening: a made-up support colleague, a teacher moved into support, a Southbank
    # support worker moved to Northfield; and one of the two moved out of support.
    made_up = await kit.gw.post(
        "/v1/people",
        headers=admin,
        json={
            "name": "Padding Person",
            "email": f"pad-{uuid.uuid4().hex[:6]}@northfield.example",
            "school_ids": [str(NORTHFIELD)],
            "staff_group": "support",
            "roles": ["staff"],
        },
    )
    assert made_up.status_code == 201, made_up.text
    await change("n-t1", staff_group="support")
    await change("s-s1", school_ids=[str(NORTHFIELD)])
    await change("n-s2", staff_group="teacher")
    await kit.stack.settle()

    url = f"/v1/audits/{audit['id']}/responses"
    for person_id in (made_up.json()["id"], PEOPLE_BY_KEY["n-t1"].id, PEOPLE_BY_KEY["s-s1"].id):
        headers = await kit.stack.headers_for(person_id)  # a fresh token: today's schools
        me = (await kit.gw.get(f"{url}/me", headers=headers)).json()
        assert me["can_respond"] is False and "when it opened" in me["reason"], me
        refused = await kit.gw.post(url, json={"answers": paired}, headers=headers)
        assert refused.status_code == 403, refused.text
        assert "when it opened" in refused.json()["detail"]
    # Those in the snapshot answer with the attributes it froze.
    await kit.respond(audit["id"], "n-s1", paired)
    moved_out = await kit.stack.headers_for(PEOPLE_BY_KEY["n-s2"].id)
    done = await kit.gw.post(url, json={"answers": paired}, headers=moved_out)
    assert done.status_code == 201, done.text
    async with kit.stack.session("audit") as session:
        groups = await session.scalars(
            select(AuditResponse.staff_group).where(
                AuditResponse.audit_id == uuid.UUID(audit["id"])
            )
        )
        assert sorted(groups) == ["support", "support"]
    progress = await kit.results(audit["id"])
    assert progress["audience_size"] == 2 and progress["response_rate"] == 100.0
    # Erasure takes the person out of every snapshot.
    erase = await kit.gw.post(f"/v1/people/{PEOPLE_BY_KEY['n-s1'].id}/erase", headers=admin)
    assert erase.status_code in (200, 202), erase.text
    await kit.stack.settle()
    async with kit.stack.session("audit") as session:
        from cpd_audit.models import AuditAudienceMember

        left = await session.scalars(
            select(AuditAudienceMember.person_id).where(
                AuditAudienceMember.audit_id == uuid.UUID(audit["id"])
            )
        )
        assert list(left) == [PEOPLE_BY_KEY["n-s2"].id]


async def test_in_a_trust_wide_audit_a_school_leader_sees_only_their_school(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    audit = await kit.create_audit(instrument_id=principles, groups=["teacher"], k=3)
    await kit.transition(audit["id"], "open")
    # Every teacher of both schools answers; Southbank's answers differ.
    teachers = kit.people(groups=["teacher"])
    for person in teachers:
        practice = 1 if NORTHFIELD in person.school_ids else 5
        await kit.respond(
            audit["id"],
            person.key,
            {str(n): {"values": 5, "practice": practice} for n in range(1, 9)},
        )
    await kit.transition(audit["id"], "close")
    base = f"/v1/audits/{audit['id']}"
    everything = await kit.results(audit["id"], by="school", as_="admin")
    assert {c["group"]["school"] for c in everything["breakdown"]} == {
        str(NORTHFIELD),
        str(SOUTHBANK),
    }
    for who, mine in (("n-head", NORTHFIELD), ("s-head", SOUTHBANK), ("n-gov", NORTHFIELD)):
        for by in ("school", "staff_group", "leadership", "school,staff_group", "department"):
            got = await kit.results(audit["id"], by=by, as_=who)
            assert got["respondents"] == len(teachers)  # the trust total
            assert {c["group"]["school"] for c in got["breakdown"]} == {str(mine)}, (who, by)
            assert "school" in got["by"]
        two_other = await kit.gw.get(
            f"{base}/results?by=staff_group,department", headers=await kit.h(who)
        )
        assert two_other.status_code == 403, two_other.text
        rows = list(
            csv.DictReader(
                io.StringIO(
                    (
                        await kit.gw.get(f"{base}/results.csv?by=school", headers=await kit.h(who))
                    ).text
                )
            )
        )
        assert {r["school"] for r in rows if r["group"] != "all"} == {str(mine)}
    counts = await kit.gw.get(f"{base}/responses/counts", headers=await kit.h("n-head"))
    body = counts.json()
    assert [c["school_id"] for c in body["by_school"]] == [str(NORTHFIELD)]
    assert body["by_staff_group"] is None
    assert {c["school_id"] for c in body["by_school_and_staff_group"]} == {str(NORTHFIELD)}
    admin_counts = (
        await kit.gw.get(f"{base}/responses/counts", headers=await kit.h("admin"))
    ).json()
    assert len(admin_counts["by_school"]) == 2 and admin_counts["by_staff_group"]
    # The one-school leader's leaders-v-staff split still comes with their school's cells.
    split = await kit.results(audit["id"], by="leadership", as_="n-head")
    assert split["leaders_v_staff"] is not None


async def test_comments_only_after_close_for_items_enough_people_answered(kit: Any) -> None:
    resp = await kit.gw.post(
        "/v1/instruments",
        json={**INSTRUMENT, "key": "comment-check"},
        headers=await kit.h("admin"),
    )
    instrument = resp.json()["id"]
    audit = await kit.create_audit(
        instrument_id=instrument,
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        k=3,
    )
    await kit.transition(audit["id"], "open")
    texts = ["zebra crossing", "apples", "Middle", "banana"]
    for index, who in enumerate(["n-t1", "n-t2", "n-t3", "n-t4"]):
        body = answers(index)
        if index >= 2:
            body.pop("f")  # only two write free text: fewer than k
        body["a"]["comment"] = texts[index]
        await kit.respond(audit["id"], who, body)
    await kit.transition(audit["id"], "close")
    results = await kit.results(audit["id"], as_="n-head")
    assert kit.item(results, "a")["comments"] == sorted(texts)
    assert kit.item(results, "f")["comments"] is None
    assert kit.item(results, "f")["withheld"]
    by_group = await kit.results(audit["id"], by="staff_group", as_="admin")
    assert all(i["comments"] is None for c in by_group["breakdown"] for i in c["items"])
    # The CSV never carries comments.
    csv_text = (
        await kit.gw.get(f"/v1/audits/{audit['id']}/results.csv", headers=await kit.h("admin"))
    ).text
    assert not any(t in csv_text for t in texts)


async def test_open_and_closed_events_carry_no_figures_while_open(kit: Any) -> None:
    principles = await kit.instrument_id("effective-cpd-principles")
    audit = await kit.create_audit(instrument_id=principles, groups=["teacher"], k=3)
    await kit.transition(audit["id"], "open")
    for key in ("n-t1", "n-t2"):
        await kit.respond(
            audit["id"], key, {str(n): {"values": 4, "practice": 2} for n in range(1, 9)}
        )
    async with kit.stack.session("audit") as session:
        rows = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.envelope["subject"].astext == audit["id"])
            )
        ).all()
    assert [r.type for r in rows] == [catalogue.AuditOpened.event_type]
    data = rows[0].envelope["data"]
    # The opening says how big the frozen audience is, nothing about who has answered.
    assert data["audience_size"] == len(kit.people(groups=["teacher"]))
    assert set(data) == set(catalogue.AuditOpened.model_fields)
    assert not {"respondent_count", "responses", "items"} & set(data)
