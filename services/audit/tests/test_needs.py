"""The needs register: recording (with its event), who sees individual needs, validation,
ETags and tenancy."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from cpd_audit.models import Need, OutboxEvent
from cpd_common.events import catalogue
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

from .rounds import closed_round_with_a_gap

LEADER = PEOPLE_BY_KEY["s-head"]  # Southbank head
PERSON = PEOPLE_BY_KEY["s-t2"]  # Chris Walker; line manager s-t1
LINE_MANAGER = PEOPLE_BY_KEY["s-t1"]
COLLEAGUE = PEOPLE_BY_KEY["s-t3"]
MENTOR = PEOPLE_BY_KEY["s-t5"]


def whole_school_need(**extra: object) -> dict:
    return {
        "school_id": str(SOUTHBANK),
        "level": "whole_school",
        "title": "Adaptive teaching for pupils with SEND",
        "description": "Teachers adapt too little within lessons for pupils with SEND.",
        "need_types": ["knowledge", "skills"],
        "evidence": [
            {"source": "learning_walk", "notes": "Few adaptations seen in 8 of 12 lessons."},
            {"source": "data_analysis", "notes": "SEND progress gap widened in year 8."},
        ],
        "priority": "high",
        "intended_outcomes": {
            "short_term": "Every teacher plans one adaptation per lesson.",
            "medium_term": "Learning walks show adaptations in most lessons.",
            "long_term": "The SEND progress gap narrows.",
        },
        **extra,
    }


async def test_recording_a_need_publishes_need_recorded(demo: Stack) -> None:
    leader = await demo.headers_for(LEADER.id)
    keyed = {**leader, "Idempotency-Key": "need-send-1"}
    resp = await demo.gateway.post("/v1/needs", headers=keyed, json=whole_school_need())
    assert resp.status_code == 201, resp.text
    need = resp.json()
    # A retry with the same key replays the response: one need, one event.
    replay = await demo.gateway.post("/v1/needs", headers=keyed, json=whole_school_need())
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == need
    other = await demo.gateway.post(
        "/v1/needs", headers=keyed, json=whole_school_need(priority="low")
    )
    assert other.status_code == 409
    assert resp.headers["location"] == f"/v1/needs/{need['id']}"
    assert need["level"] == "whole_school"
    assert need["status"] == "identified"
    assert need["need_types"] == ["knowledge", "skills"]
    assert need["evidence"][0] == {
        "source": "learning_walk",
        "notes": "Few adaptations seen in 8 of 12 lessons.",
    }
    assert need["intended_outcomes"]["long_term"] == "The SEND progress gap narrows."
    assert need["recorded_by"] == str(LEADER.id)
    assert need["trust_id"] == str(LEADER.trust_id)

    got = await demo.gateway.get(f"/v1/needs/{need['id']}", headers=leader)
    assert got.status_code == 200
    assert got.json() == need
    assert got.headers["etag"] == resp.headers["etag"]

    async with demo.session("audit") as session:
        rows = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.type == catalogue.NeedRecorded.event_type)
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].envelope["subject"] == need["id"]
    assert rows[0].envelope["trustid"] == str(LEADER.trust_id)

    await demo.settle()
    js = await demo.js()
    msg = await js.get_last_msg("CPD", catalogue.NeedRecorded.nats_subject)
    envelope = json.loads(msg.data)
    assert envelope["type"] == catalogue.NeedRecorded.event_type
    payload = catalogue.NeedRecorded.model_validate(envelope["data"])
    assert payload == catalogue.NeedRecorded(
        need_id=uuid.UUID(need["id"]),
        trust_id=LEADER.trust_id,
        school_id=SOUTHBANK,
        level="whole_school",
        need_types=["knowledge", "skills"],
        priority="high",
    )


async def test_individual_needs_are_seen_only_by_the_person_manager_mentor_and_leaders(
    demo: Stack,
) -> None:
    leader = await demo.headers_for(LEADER.id)
    person = await demo.headers_for(PERSON.id)
    manager = await demo.headers_for(LINE_MANAGER.id)
    colleague = await demo.headers_for(COLLEAGUE.id)
    mentor = await demo.headers_for(MENTOR.id)
    admin = await demo.auth("admin@oakridge.example", "oakridge-admin-2026")
    other_leader = await demo.auth("leader@northfield.example", "northfield-leader-2026")
    governor = await demo.headers_for(PEOPLE_BY_KEY["s-gov"].id)
    other_trust = await demo.auth("admin@riverside.example", "riverside-admin-2026")

    resp = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(SOUTHBANK),
            "level": "individual",
            "person_id": str(PERSON.id),
            "title": "Behaviour routines with year 9",
            "need_types": ["skills", "attitudes"],
            "evidence": [{"source": "observation", "notes": "Low-level disruption."}],
        },
    )
    assert resp.status_code == 201, resp.text
    individual = resp.json()
    collective = (
        await demo.gateway.post("/v1/needs", headers=leader, json=whole_school_need())
    ).json()
    url = f"/v1/needs/{individual['id']}"

    async def sees(headers: dict[str, str]) -> bool:
        one = await demo.gateway.get(url, headers=headers)
        listed = await demo.gateway.get("/v1/needs", headers=headers)
        assert listed.status_code == 200, listed.text
        in_list = individual["id"] in [n["id"] for n in listed.json()["items"]]
        assert one.status_code in (200, 404), one.text
        assert (one.status_code == 200) == in_list
        return one.status_code == 200

    for headers in (person, manager, leader, admin):
        assert await sees(headers)
    for headers in (colleague, mentor, other_leader, governor, other_trust):
        assert not await sees(headers)

    # The school's collective needs are visible to its staff and governors, not elsewhere.
    for headers in (colleague, governor, person):
        resp = await demo.gateway.get(f"/v1/needs/{collective['id']}", headers=headers)
        assert resp.status_code == 200
    for headers in (other_leader, other_trust):
        resp = await demo.gateway.get(f"/v1/needs/{collective['id']}", headers=headers)
        assert resp.status_code == 404

    # A mentor sees it once the person shares their career plan with them, not after revoking.
    plan = await demo.gateway.post("/v1/career-plans", headers=person, json={})
    assert plan.status_code == 201, plan.text
    share_url = f"/v1/career-plans/{plan.json()['id']}/share"
    resp = await demo.gateway.post(share_url, headers=person, json={"mentor_id": str(MENTOR.id)})
    assert resp.status_code == 201
    assert await sees(mentor)
    listed = await demo.gateway.get(f"/v1/needs?person_id={PERSON.id}", headers=mentor)
    assert [n["id"] for n in listed.json()["items"]] == [individual["id"]]
    share = await demo.gateway.get(f"{share_url}/{MENTOR.id}", headers=person)
    assert (
        await demo.gateway.delete(
            f"{share_url}/{MENTOR.id}", headers={**person, "If-Match": share.headers["etag"]}
        )
    ).status_code == 204
    assert not await sees(mentor)

    # The line manager may change it; a colleague may not even see it; a mentor only reads.
    etag = (await demo.gateway.get(url, headers=manager)).headers["etag"]
    resp = await demo.gateway.patch(
        url, headers={**manager, "If-Match": etag}, json={"status": "planned"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "planned"
    resp = await demo.gateway.patch(
        url, headers={**colleague, "If-Match": etag}, json={"status": "met"}
    )
    assert resp.status_code == 404


async def test_who_may_record_which_needs(demo: Stack) -> None:
    person = await demo.headers_for(PERSON.id)
    manager = await demo.headers_for(LINE_MANAGER.id)
    colleague = await demo.headers_for(COLLEAGUE.id)
    governor = await demo.headers_for(PEOPLE_BY_KEY["s-gov"].id)
    other_leader = await demo.auth("leader@northfield.example", "northfield-leader-2026")
    own = {
        "school_id": str(SOUTHBANK),
        "level": "individual",
        "person_id": str(PERSON.id),
        "title": "Using retrieval practice",
        "need_types": ["knowledge"],
    }
    # Staff record their own individual needs; line managers those of their reports.
    assert (await demo.gateway.post("/v1/needs", headers=person, json=own)).status_code == 201
    assert (await demo.gateway.post("/v1/needs", headers=manager, json=own)).status_code == 201
    # A colleague may not; nor may staff or governors record collective needs, nor leaders
    # of another school.
    assert (await demo.gateway.post("/v1/needs", headers=colleague, json=own)).status_code == 403
    for headers in (person, governor, other_leader):
        resp = await demo.gateway.post("/v1/needs", headers=headers, json=whole_school_need())
        assert resp.status_code == 403, resp.text
    async with demo.session("audit") as session:
        assert len((await session.scalars(select(Need.id))).all()) == 2


async def test_validation_errors_list_every_problem(demo: Stack) -> None:
    leader = await demo.headers_for(LEADER.id)
    resp = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(SOUTHBANK),
            "level": "department",
            "title": "",
            "need_types": [],
            "evidence": [{"source": "gut_feeling"}],
            "priority": "urgent",
            "status": "done",
            "colour": "red",
        },
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["status"] == 422
    locs = {e["loc"] for e in body["errors"]}
    assert {
        "body.level",
        "body.title",
        "body.need_types",
        "body.evidence.0.source",
        "body.priority",
        "body.status",
        "body.colour",
    } <= locs

    # Text PostgreSQL cannot store is refused, not a server error.
    resp = await demo.gateway.post(
        "/v1/needs", headers=leader, json=whole_school_need(title="Adaptive\u0000teaching")
    )
    assert resp.status_code == 422
    assert resp.json()["errors"]

    # Rules across fields are checked together, after the shape.
    resp = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(SOUTHBANK),
            "level": "team",
            "person_id": str(PERSON.id),
            "title": "Maths team: questioning",
            "need_types": ["skills"],
        },
    )
    assert resp.status_code == 422
    assert sorted(resp.json()["errors"], key=lambda e: e["loc"]) == [
        {"loc": "body.person_id", "msg": "only individual needs name a person"},
        {"loc": "body.team_kind", "msg": "a team need names its kind"},
        {"loc": "body.team_name", "msg": "a team need names its team"},
    ]
    resp = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(SOUTHBANK),
            "level": "individual",
            "person_id": str(PEOPLE_BY_KEY["n-t1"].id),
            "title": "A Northfield teacher in a Southbank need",
            "need_types": ["skills"],
        },
    )
    assert resp.status_code == 422
    assert resp.json()["errors"] == [
        {"loc": "body.person_id", "msg": "the person does not work at this school"}
    ]
    resp = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json=whole_school_need(school_id=str(uuid.uuid4())),
    )
    assert resp.status_code == 422
    assert resp.json()["errors"] == [
        {"loc": "body.school_id", "msg": "no such school in your trust"}
    ]

    team = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(SOUTHBANK),
            "level": "team",
            "team_kind": "department",
            "team_name": "Maths",
            "title": "Maths team: questioning",
            "need_types": ["skills"],
        },
    )
    assert team.status_code == 201, team.text
    assert (team.json()["team_kind"], team.json()["team_name"]) == ("department", "Maths")
    url = f"/v1/needs/{team.json()['id']}"
    etag = team.headers["etag"]
    resp = await demo.gateway.patch(
        url,
        headers={**leader, "If-Match": etag},
        json={"team_kind": None, "title": None, "need_types": ["feelings"]},
    )
    assert resp.status_code == 422
    assert {e["loc"] for e in resp.json()["errors"]} == {"body.need_types.0"}
    resp = await demo.gateway.patch(
        url, headers={**leader, "If-Match": etag}, json={"team_kind": None, "title": None}
    )
    assert resp.status_code == 422
    assert sorted(e["loc"] for e in resp.json()["errors"]) == ["body.team_kind", "body.title"]


async def test_patch_needs_if_match_filters_and_tenancy(demo: Stack) -> None:
    leader = await demo.headers_for(LEADER.id)
    created = await demo.gateway.post("/v1/needs", headers=leader, json=whole_school_need())
    url = f"/v1/needs/{created.json()['id']}"
    etag = created.headers["etag"]
    change = {"status": "in_progress", "priority": "medium", "evidence": []}
    assert (await demo.gateway.patch(url, headers=leader, json=change)).status_code == 428
    resp = await demo.gateway.patch(url, headers={**leader, "If-Match": '"nope"'}, json=change)
    assert resp.status_code == 412
    resp = await demo.gateway.patch(url, headers={**leader, "If-Match": etag}, json=change)
    assert resp.status_code == 200, resp.text
    updated = resp.json()
    assert (updated["status"], updated["priority"], updated["evidence"]) == (
        "in_progress",
        "medium",
        [],
    )
    assert updated["title"] == created.json()["title"]
    assert resp.headers["etag"] != etag
    resp = await demo.gateway.patch(url, headers={**leader, "If-Match": etag}, json=change)
    assert resp.status_code == 412

    other = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json=whole_school_need(priority="low", need_types=["attitudes"]),
    )
    assert other.status_code == 201
    items = (await demo.gateway.get("/v1/needs?status=in_progress", headers=leader)).json()["items"]
    assert [n["id"] for n in items] == [updated["id"]]
    items = (await demo.gateway.get("/v1/needs?need_type=attitudes", headers=leader)).json()[
        "items"
    ]
    assert [n["id"] for n in items] == [other.json()["id"]]
    page = (await demo.gateway.get("/v1/needs?limit=1", headers=leader)).json()
    assert [n["id"] for n in page["items"]] == [updated["id"]]
    rest = await demo.gateway.get(f"/v1/needs?limit=1&cursor={page['next_cursor']}", headers=leader)
    assert [n["id"] for n in rest.json()["items"]] == [other.json()["id"]]
    assert rest.json()["next_cursor"] is None

    # Another trust: the need does not exist for them.
    riverside = await demo.auth("admin@riverside.example", "riverside-admin-2026")
    assert (await demo.gateway.get(url, headers=riverside)).status_code == 404
    resp = await demo.gateway.patch(
        url, headers={**riverside, "If-Match": "*"}, json={"status": "met"}
    )
    assert resp.status_code == 404
    assert (await demo.gateway.get("/v1/needs", headers=riverside)).json()["items"] == []
    # Nor can they record a need in this trust's school.
    resp = await demo.gateway.post("/v1/needs", headers=riverside, json=whole_school_need())
    assert resp.status_code == 422
    northfield = await demo.gateway.post(
        "/v1/needs", headers=riverside, json=whole_school_need(school_id=str(NORTHFIELD))
    )
    assert northfield.status_code == 422


async def test_needs_from_audits_suggested_and_linked_by_hand(kit: Any) -> None:
    demo = kit.stack
    audit = await closed_round_with_a_gap(kit, title="Autumn principles round")
    leader = await kit.h("n-head")
    suggested = await demo.gateway.get(f"/v1/audits/{audit['id']}/suggested-needs", headers=leader)
    assert suggested.status_code == 200, suggested.text
    suggestion = next(s for s in suggested.json()["items"] if s["item_key"] == "2")
    # The evidence, from the five answers given (values 5, practice 2 on item 2; 4 and 4
    # elsewhere, so item 2 is the only gap), not from the results code.
    assert [s["item_key"] for s in suggested.json()["items"] if s["kind"] == "gap"] == ["2"]
    assert (suggestion["n"], suggestion["mean_values"], suggestion["mean_practice"]) == (5, 5, 2)
    assert suggestion["gap"] == 3
    assert suggestion["title"].startswith("Close the gap on 2: ")
    assert suggestion["description"] == (
        "Staff rate this 5.00 for fitting our aims and values but 2.00 for what actually "
        "happens (gap 3.00, 5 respondents)."
    )
    assert suggestion["evidence_note"] == (
        "Audit 'Autumn principles round', item 2: values 5.00, practice 2.00, gap 3.00, n = 5."
    )
    accept_url = f"/v1/audits/{audit['id']}/suggested-needs/accept"

    resp = await demo.gateway.post(
        accept_url,
        headers=leader,
        json={"item_key": "2", "need_types": ["skills", "attitudes"], "priority": "high"},
    )
    assert resp.status_code == 201, resp.text
    need = resp.json()
    assert resp.headers["location"] == f"/v1/needs/{need['id']}"
    assert need["school_id"] == str(NORTHFIELD)
    assert need["level"] == "whole_school"
    assert need["title"] == suggestion["title"]
    assert need["description"] == suggestion["description"]
    assert need["evidence"] == [{"source": "survey", "notes": suggestion["evidence_note"]}]
    assert need["audit_items"] == [{"audit_id": audit["id"], "item_keys": ["2"]}]
    assert (need["need_types"], need["priority"]) == (["skills", "attitudes"], "high")

    async with demo.session("audit") as session:
        envelope = (
            await session.scalars(
                select(OutboxEvent.envelope).where(
                    OutboxEvent.type == catalogue.NeedRecorded.event_type
                )
            )
        ).one()
    payload = catalogue.NeedRecorded.model_validate(envelope["data"])
    assert payload.audit_id == uuid.UUID(audit["id"])
    assert payload.item_keys == ["2"]
    assert payload.school_id == NORTHFIELD

    # The register finds it by audit; accepting the same item again is a conflict.
    listed = await demo.gateway.get(f"/v1/needs?audit_id={audit['id']}", headers=leader)
    assert [n["id"] for n in listed.json()["items"]] == [need["id"]]
    again = await demo.gateway.post(
        accept_url, headers=leader, json={"item_key": "2", "need_types": ["skills"]}
    )
    assert again.status_code == 409
    # A team need from the same item is a different need.
    team = await demo.gateway.post(
        accept_url,
        headers=leader,
        json={
            "item_key": "2",
            "need_types": ["skills"],
            "level": "team",
            "team_kind": "phase",
            "team_name": "KS2",
            "title": "KS2: sustained enquiry with a colleague",
        },
    )
    assert team.status_code == 201, team.text
    assert team.json()["title"] == "KS2: sustained enquiry with a colleague"

    # Not a suggestion, not a leader, not this trust.
    resp = await demo.gateway.post(
        accept_url, headers=leader, json={"item_key": "5", "need_types": ["skills"]}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"] == [
        {"loc": "body.item_key", "msg": "not one of the audit's suggested needs"}
    ]
    resp = await demo.gateway.post(
        accept_url, headers=await kit.h("n-t1"), json={"item_key": "2", "need_types": ["skills"]}
    )
    assert resp.status_code == 403
    resp = await demo.gateway.post(
        accept_url, headers=await kit.h("r-admin"), json={"item_key": "2", "need_types": ["skills"]}
    )
    assert resp.status_code == 404
    resp = await demo.gateway.post(
        f"/v1/audits/{uuid.uuid4()}/suggested-needs/accept",
        headers=leader,
        json={"item_key": "2", "need_types": ["skills"]},
    )
    assert resp.status_code == 404

    # Audit items linked by hand are checked against the audit's instrument and trust.
    body = {
        "school_id": str(NORTHFIELD),
        "level": "whole_school",
        "title": "Sustained CPD with classroom enquiry",
        "need_types": ["skills"],
    }
    resp = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={
            **body,
            "audit_items": [
                {"audit_id": audit["id"], "item_keys": ["2", "9", "3c"]},
                {"audit_id": str(uuid.uuid4()), "item_keys": ["1"]},
            ],
        },
    )
    assert resp.status_code == 422
    assert resp.json()["errors"] == [
        {"loc": "body.audit_items.0.item_keys", "msg": "the audit has no item '9'"},
        {"loc": "body.audit_items.0.item_keys", "msg": "the audit has no item '3c'"},
        {"loc": "body.audit_items.1.audit_id", "msg": "no such audit in your trust"},
    ]
    # Another trust cannot link this trust's audit.
    other = await demo.gateway.post(
        "/v1/needs",
        headers=await kit.h("r-admin"),
        json={
            **body,
            "school_id": str(PEOPLE_BY_KEY["r-admin"].school_ids[0]),
            "audit_items": [{"audit_id": audit["id"], "item_keys": ["2"]}],
        },
    )
    assert other.status_code == 422
    assert other.json()["errors"] == [
        {"loc": "body.audit_items.0.audit_id", "msg": "no such audit in your trust"}
    ]
    resp = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={**body, "audit_items": [{"audit_id": audit["id"], "item_keys": ["2", "6", "2"]}]},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["audit_items"] == [{"audit_id": audit["id"], "item_keys": ["2", "6"]}]
    url = f"/v1/needs/{resp.json()['id']}"
    resp = await demo.gateway.patch(
        url,
        headers={**leader, "If-Match": resp.headers["etag"]},
        json={"audit_items": [{"audit_id": audit["id"], "item_keys": ["7"]}]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["audit_items"] == [{"audit_id": audit["id"], "item_keys": ["7"]}]
