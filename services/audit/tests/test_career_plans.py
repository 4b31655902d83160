"""Career plans are private: the owner and the mentors they share with read them; nobody
else (not leaders, not trust admins, not another trust) can tell they exist."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from cpd_audit.models import CareerPlan, CareerPlanShare, Need
from cpd_demo.trust import PEOPLE_BY_KEY
from cpd_local.stack import Stack

OWNER = PEOPLE_BY_KEY["s-t2"]  # Chris Walker, Maths ECT at Southbank (line manager s-t1)
MENTOR = PEOPLE_BY_KEY["s-t5"]  # Aisha Khan, Science


def plan_body() -> dict:
    return {
        "title": "Becoming a maths lead",
        "start_year": 2026,
        "came_from": {"notes": "Engineering, then a PGCE.", "reflections": "I like explaining."},
        "where_i_am": {"notes": "Second-year maths teacher.", "mentor_discussion": ""},
        "aims_three_years": {
            "aim": "Lead key stage 3 maths",
            "qualifications": "NPQ in leading teaching",
            "experience": "Run a department enquiry group",
            "skills": "Coaching colleagues",
            "opportunities": "Trust maths network",
        },
        "aims_five_years": {"aim": "Head of maths"},
        "strengths": [{"strength": "Subject knowledge", "evidence": "Observation feedback"}],
        "aspects_to_develop": [
            {
                "aspect": "Questioning in mixed-attainment classes",
                "kind": "skills",
                "how_identified": "Learning walk and self-review",
                "preferred_cpd_model": "lesson_study",
            }
        ],
        "action_plan": [
            {"action": "Join the lesson study group", "month": "2026-10", "responsible": "Me"}
        ],
    }


async def create_plan(stack: Stack, headers: dict[str, str]) -> dict:
    resp = await stack.gateway.post("/v1/career-plans", headers=headers, json=plan_body())
    assert resp.status_code == 201, resp.text
    assert resp.headers["location"] == f"/v1/career-plans/{resp.json()['id']}"
    assert resp.headers["etag"]
    return resp.json()


async def test_only_the_owner_and_a_sharing_mentor_can_read_a_career_plan(demo: Stack) -> None:
    owner = await demo.headers_for(OWNER.id)
    mentor = await demo.headers_for(MENTOR.id)
    plan = await create_plan(demo, owner)
    assert plan["owner_id"] == str(OWNER.id)
    assert plan["aims_three_years"]["qualifications"] == "NPQ in leading teaching"
    assert plan["aspects_to_develop"][0]["preferred_cpd_model"] == "lesson_study"
    assert plan["shared_with"] == []
    url = f"/v1/career-plans/{plan['id']}"

    resp = await demo.gateway.get(url, headers=owner)
    assert resp.status_code == 200
    assert resp.json()["came_from"]["notes"] == "Engineering, then a PGCE."

    # Another teacher, their line manager, the head, the trust admin and another trust: 404.
    outsiders = [
        await demo.headers_for(PEOPLE_BY_KEY["s-t3"].id),
        await demo.headers_for(PEOPLE_BY_KEY["s-t1"].id),
        await demo.headers_for(PEOPLE_BY_KEY["s-head"].id),
        await demo.headers_for(PEOPLE_BY_KEY["admin"].id),
        await demo.auth("admin@riverside.example", "riverside-admin-2026"),
    ]
    for headers in [mentor, *outsiders]:
        resp = await demo.gateway.get(url, headers=headers)
        assert resp.status_code == 404, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        listed = await demo.gateway.get("/v1/career-plans", headers=headers)
        assert listed.status_code == 200
        assert plan["id"] not in [p["id"] for p in listed.json()["items"]]
        shared = await demo.gateway.post(
            f"{url}/share", headers=headers, json={"mentor_id": str(MENTOR.id)}
        )
        assert shared.status_code == 404

    # Shared with a mentor: they can read it (without seeing who else it is shared with).
    resp = await demo.gateway.post(
        f"{url}/share", headers=owner, json={"mentor_id": str(MENTOR.id)}
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["mentor_id"] == str(MENTOR.id)
    assert resp.json()["mentor_name"] == MENTOR.name
    assert resp.headers["location"] == f"{url}/share/{MENTOR.id}"
    again = await demo.gateway.post(
        f"{url}/share", headers=owner, json={"mentor_id": str(MENTOR.id)}
    )
    assert again.status_code == 200
    resp = await demo.gateway.get(url, headers=mentor)
    assert resp.status_code == 200
    assert resp.json()["title"] == "Becoming a maths lead"
    assert resp.json()["shared_with"] is None
    listed = await demo.gateway.get("/v1/career-plans", headers=mentor)
    assert [p["id"] for p in listed.json()["items"]] == [plan["id"]]
    owner_view = (await demo.gateway.get(url, headers=owner)).json()
    assert [s["mentor_id"] for s in owner_view["shared_with"]] == [str(MENTOR.id)]
    shares = await demo.gateway.get(f"{url}/shares", headers=owner)
    assert [s["mentor_id"] for s in shares.json()] == [str(MENTOR.id)]

    # Sharing with one mentor shows nothing to anyone else.
    for headers in outsiders:
        assert (await demo.gateway.get(url, headers=headers)).status_code == 404

    # A mentor reads but does not write or re-share.
    etag = (await demo.gateway.get(url, headers=mentor)).headers["etag"]
    resp = await demo.gateway.patch(
        url, headers={**mentor, "If-Match": etag}, json={"title": "Mine now"}
    )
    assert resp.status_code == 403
    resp = await demo.gateway.post(
        f"{url}/share", headers=mentor, json={"mentor_id": str(PEOPLE_BY_KEY["s-t3"].id)}
    )
    assert resp.status_code == 403
    resp = await demo.gateway.delete(f"{url}/share/{MENTOR.id}", headers=mentor)
    assert resp.status_code == 403

    # Revoked (with the share's ETag): the mentor gets 404 again.
    resp = await demo.gateway.delete(f"{url}/share/{MENTOR.id}", headers=owner)
    assert resp.status_code == 428
    share = await demo.gateway.get(f"{url}/share/{MENTOR.id}", headers=owner)
    resp = await demo.gateway.delete(
        f"{url}/share/{MENTOR.id}", headers={**owner, "If-Match": '"stale"'}
    )
    assert resp.status_code == 412
    resp = await demo.gateway.delete(
        f"{url}/share/{MENTOR.id}", headers={**owner, "If-Match": share.headers["etag"]}
    )
    assert resp.status_code == 204
    assert (await demo.gateway.get(url, headers=mentor)).status_code == 404
    assert (await demo.gateway.get("/v1/career-plans", headers=mentor)).json()["items"] == []
    resp = await demo.gateway.delete(f"{url}/share/{MENTOR.id}", headers=owner)
    assert resp.status_code == 404
    async with demo.session("audit") as session:
        assert await session.scalar(select(func.count()).select_from(CareerPlanShare)) == 0


async def test_owner_edits_with_etags_and_validation_lists_every_error(demo: Stack) -> None:
    owner = await demo.headers_for(OWNER.id)
    plan = await create_plan(demo, owner)
    url = f"/v1/career-plans/{plan['id']}"
    got = await demo.gateway.get(url, headers=owner)
    etag = got.headers["etag"]

    change = {"where_i_am": {"notes": "Now leading year 7 maths."}}
    resp = await demo.gateway.patch(url, headers=owner, json=change)
    assert resp.status_code == 428
    resp = await demo.gateway.patch(url, headers={**owner, "If-Match": '"stale"'}, json=change)
    assert resp.status_code == 412
    resp = await demo.gateway.patch(url, headers={**owner, "If-Match": etag}, json=change)
    assert resp.status_code == 200, resp.text
    assert resp.json()["where_i_am"]["notes"] == "Now leading year 7 maths."
    assert resp.json()["aims_five_years"]["aim"] == "Head of maths"
    assert resp.headers["etag"] != etag
    # The old ETag is stale now.
    resp = await demo.gateway.patch(url, headers={**owner, "If-Match": etag}, json=change)
    assert resp.status_code == 412

    bad = {
        "title": "",
        "aspects_to_develop": [{"aspect": "Behaviour", "kind": "temper"}],
        "action_plan": [{"action": "Course", "month": "2026-13"}],
        "favourite_colour": "blue",
    }
    resp = await demo.gateway.post("/v1/career-plans", headers=owner, json=bad)
    assert resp.status_code == 422
    locs = {e["loc"] for e in resp.json()["errors"]}
    assert {
        "body.title",
        "body.aspects_to_develop.0.kind",
        "body.action_plan.0.month",
        "body.favourite_colour",
    } <= locs

    nul = {"where_i_am": {"notes": "Year 7\u0000maths"}}
    resp = await demo.gateway.post("/v1/career-plans", headers=owner, json=nul)
    assert resp.status_code == 422

    mentor_id = str(MENTOR.id)
    for target, msg in [
        (str(uuid.uuid4()), "no such person in your trust"),
        (str(PEOPLE_BY_KEY["r-t1"].id), "no such person in your trust"),
        (str(OWNER.id), "you cannot be your own mentor"),
    ]:
        resp = await demo.gateway.post(f"{url}/share", headers=owner, json={"mentor_id": target})
        assert resp.status_code == 422, resp.text
        assert resp.json()["errors"] == [{"loc": "body.mentor_id", "msg": msg}]
    assert (await demo.gateway.get(f"{url}/share/{mentor_id}", headers=owner)).status_code == 404

    resp = await demo.gateway.delete(url, headers=owner)
    assert resp.status_code == 428
    resp = await demo.gateway.delete(url, headers={**owner, "If-Match": '"stale"'})
    assert resp.status_code == 412
    etag = (await demo.gateway.get(url, headers=owner)).headers["etag"]
    resp = await demo.gateway.delete(url, headers={**owner, "If-Match": etag})
    assert resp.status_code == 204
    assert (await demo.gateway.get(url, headers=owner)).status_code == 404


async def test_erasure_deletes_the_persons_career_plan_and_nobody_elses(demo: Stack) -> None:
    """Right to erasure: the erased person's career plan (a private self-review) is deleted,
    not hidden; a colleague's plan stays."""
    plan = await create_plan(demo, await demo.headers_for(OWNER.id))
    colleague = PEOPLE_BY_KEY["s-t8"]
    other = await create_plan(demo, await demo.headers_for(colleague.id))
    admin = await demo.auth("admin@oakridge.example", "oakridge-admin-2026")
    resp = await demo.gateway.post(f"/v1/people/{OWNER.id}/erase", headers=admin)
    assert resp.status_code == 202, resp.text
    await demo.settle()
    async with demo.session("audit") as session:
        owners = (await session.scalars(select(CareerPlan.owner_id))).all()
        stored = await session.scalar(
            select(func.count()).select_from(CareerPlan).where(CareerPlan.owner_id == OWNER.id)
        )
    assert stored == 0, "right to erasure: the erased person's career plan must be deleted"
    assert owners == [colleague.id], "erasure must not touch a colleague's career plan"
    gone = await demo.gateway.get(f"/v1/career-plans/{plan['id']}", headers=admin)
    assert gone.status_code == 404, "an erased career plan must not be served"
    kept = await demo.gateway.get(
        f"/v1/career-plans/{other['id']}", headers=await demo.headers_for(colleague.id)
    )
    assert kept.status_code == 200, "the colleague still reads their own plan"


async def test_erasure_removes_career_plans_shares_and_individual_needs(demo: Stack) -> None:
    owner = await demo.headers_for(OWNER.id)
    leader = await demo.headers_for(PEOPLE_BY_KEY["s-head"].id)
    admin = await demo.auth("admin@oakridge.example", "oakridge-admin-2026")
    school_id = str(PEOPLE_BY_KEY["s-head"].school_ids[0])

    plan = await create_plan(demo, owner)
    # Someone else's plan, shared with the person who will be erased (as their mentor).
    other = await create_plan(demo, await demo.headers_for(PEOPLE_BY_KEY["s-t8"].id))
    resp = await demo.gateway.post(
        f"/v1/career-plans/{other['id']}/share",
        headers=await demo.headers_for(PEOPLE_BY_KEY["s-t8"].id),
        json={"mentor_id": str(OWNER.id)},
    )
    assert resp.status_code == 201
    need = {
        "school_id": school_id,
        "title": "Questioning",
        "need_types": ["skills"],
    }
    individual = await demo.gateway.post(
        "/v1/needs",
        headers=leader,
        json={**need, "level": "individual", "person_id": str(OWNER.id)},
    )
    assert individual.status_code == 201, individual.text
    collective = await demo.gateway.post(
        "/v1/needs", headers=leader, json={**need, "level": "whole_school"}
    )
    assert collective.status_code == 201
    own = await demo.gateway.post(
        "/v1/needs", headers=owner, json={**need, "level": "individual", "person_id": str(OWNER.id)}
    )
    assert own.status_code == 201, own.text
    assert own.json()["recorded_by"] == str(OWNER.id)
    # The school's CPD plan budgets for the individual need, with the person responsible.
    cpd_plan = await demo.gateway.post(
        "/v1/cpd-plans",
        headers=leader,
        json={
            "school_id": school_id,
            "start_year": 2026,
            "rows": [
                {
                    "need_id": individual.json()["id"],
                    "month": "2026-11",
                    "activity": "Coaching on questioning",
                    "responsible": "Chris Walker",
                    "responsible_person_id": str(OWNER.id),
                    "cost": "120.00",
                },
                {
                    "need_id": collective.json()["id"],
                    "month": "2026-11",
                    "activity": "Whole-staff INSET",
                    "responsible": "Deputy head",
                    "cost": "300.00",
                },
            ],
        },
    )
    assert cpd_plan.status_code == 201, cpd_plan.text
    await demo.settle()

    resp = await demo.gateway.post(f"/v1/people/{OWNER.id}/erase", headers=admin)
    assert resp.status_code == 202, resp.text
    await demo.settle()

    async with demo.session("audit") as session:
        plans = (await session.scalars(select(CareerPlan.owner_id))).all()
        assert plans == [PEOPLE_BY_KEY["s-t8"].id]
        assert (await session.scalars(select(CareerPlanShare.mentor_id))).all() == []
        needs = (await session.execute(select(Need.id, Need.level, Need.person_id))).all()
        assert [(str(n.id), n.level, n.person_id) for n in needs] == [
            (collective.json()["id"], "whole_school", None)
        ]
    assert (
        await demo.gateway.get(f"/v1/career-plans/{plan['id']}", headers=admin)
    ).status_code == 404
    resp = await demo.gateway.get(f"/v1/needs/{individual.json()['id']}", headers=leader)
    assert resp.status_code == 404
    assert (
        await demo.gateway.get(f"/v1/needs/{collective.json()['id']}", headers=leader)
    ).status_code == 200
    # The plan keeps its budget: the row stays, no longer naming the need or the person.
    kept = (await demo.gateway.get(f"/v1/cpd-plans/{cpd_plan.json()['id']}", headers=leader)).json()
    coaching = next(r for r in kept["rows"] if r["activity"] == "Coaching on questioning")
    assert (coaching["need_id"], coaching["responsible_person_id"]) == (None, None)
    assert kept["totals"]["cost"] == 420.0
    assert {n["need_id"]: n["cost"] for n in kept["totals"]["by_need"]} == {
        collective.json()["id"]: 300.0,
        None: 120.0,
    }
