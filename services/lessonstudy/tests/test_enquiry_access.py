"""Who sees and changes enquiries (members write; leaders of the schools involved and trust
admins read; everyone else 404, other trusts included), and the API conventions: If-Match on
PATCH and DELETE, idempotent creates, cursor lists, problem+json."""

from __future__ import annotations

from sqlalchemy import func, select

from cpd_demo.trust import NORTHFIELD, SOUTHBANK
from cpd_lessonstudy.models.enquiries import Enquiry
from cpd_local.stack import Stack

from .conftest import Api, days_ago
from .enquiry_helpers import ENQUIRIES, create_enquiry, member_id, pid


async def test_members_write_leaders_read_others_get_404(demo: Stack, api: Api) -> None:
    enquiry = await create_enquiry(api, "n-t1", ["n-t2"])
    eid = enquiry["id"]
    base = f"{ENQUIRIES}/{eid}"
    for who in ("n-t1", "n-t2", "n-head", "admin"):
        await api.call("GET", base, who, expect=200)
    for who in ("n-t3", "s-head", "s-t1", "r-admin", "r-t1"):
        resp = await api.call("GET", base, who, expect=404)
        assert resp.json()["type"].endswith("/enquiry-not-found")
        await api.call("GET", base + "/report", who, expect=404)
        await api.call("GET", base + "/members", who, expect=404)
    # Governors never see enquiries.
    await api.call("GET", ENQUIRIES, "n-gov", expect=403)
    await api.call("GET", base, "n-gov", expect=403)

    # Readers who are not members cannot change it; other trusts cannot even tell it exists.
    await api.call("POST", base + "/start", "n-head", expect=403)
    await api.call("POST", base + "/start", "admin", expect=403)
    await api.call("POST", base + "/start", "r-admin", expect=404)
    await api.call(
        "POST",
        base + "/members",
        "r-admin",
        json={"person_id": pid("r-t1"), "role": "member"},
        expect=404,
    )

    assert [e["id"] for e in (await api.get(ENQUIRIES, "n-t2"))["items"]] == [eid]
    assert (await api.get(ENQUIRIES, "n-t3"))["items"] == []
    assert (await api.get(ENQUIRIES, "s-head"))["items"] == []
    assert (await api.get(ENQUIRIES, "r-admin"))["items"] == []
    assert [e["id"] for e in (await api.get(ENQUIRIES, "n-head"))["items"]] == [eid]

    # Members come from the schools involved; a colleague from another school joins once
    # their school is added.
    await api.call("POST", base + "/members", "n-t1", json={"person_id": pid("s-t1")}, expect=422)
    await api.call("POST", base + "/members", "n-t1", json={"person_id": pid("r-t1")}, expect=422)
    await api.patch(base, "n-t1", {"school_ids": [*enquiry["school_ids"], str(SOUTHBANK)]})
    added = await api.post(base + "/members", "n-t1", {"person_id": pid("s-t1")})
    assert added["role"] == "member"
    assert [e["id"] for e in (await api.get(ENQUIRIES, "s-head"))["items"]] == [eid]
    # One coordinator.
    resp = await api.call(
        "POST",
        base + "/members",
        "n-t1",
        json={"person_id": pid("n-t4"), "role": "coordinator"},
        expect=409,
    )
    assert resp.json()["type"].endswith("/coordinator-taken")
    await api.call("POST", base + "/members", "n-t1", json={"person_id": pid("n-t2")}, expect=409)


async def test_if_match_idempotency_and_cursor_lists(demo: Stack, api: Api) -> None:
    enquiry = await create_enquiry(api, "n-t1", ["n-t2"])
    base = f"{ENQUIRIES}/{enquiry['id']}"
    resp = await api.call("PATCH", base, "n-t1", json={"title": "New"}, expect=428)
    assert resp.json()["status"] == 428
    await api.call(
        "PATCH", base, "n-t1", json={"title": "New"}, headers={"If-Match": '"stale"'}, expect=412
    )
    await api.call("DELETE", base, "n-t1", expect=428)
    await api.call("DELETE", base, "n-t1", headers={"If-Match": '"stale"'}, expect=412)
    changed = await api.patch(base, "n-t1", {"title": "New", "ends_on": days_ago(-30)})
    assert changed["title"] == "New"
    await api.call(
        "PATCH",
        base,
        "n-t1",
        json={"starts_on": days_ago(-40)},
        headers={"If-Match": (await api.call("GET", base, "n-t1")).headers["etag"]},
        expect=422,
    )
    await api.call("PATCH", base, "n-t1", json={"status": "completed"}, expect=422)

    # A member who has recorded nothing can leave (If-Match too); then they have a record.
    mpath = f"{base}/members/{member_id(enquiry, 'n-t2')}"
    await api.call("DELETE", mpath, "n-t1", expect=428)
    etag = (await api.call("GET", mpath, "n-t1")).headers["etag"]
    await api.call("DELETE", mpath, "n-t1", headers={"If-Match": etag}, expect=204)
    await api.call("GET", mpath, "n-t1", expect=404)

    # Started enquiries are a record: no delete.
    await api.post(base + "/start", "n-t1", expect=200)
    etag = (await api.call("GET", base, "n-t1")).headers["etag"]
    resp = await api.call("DELETE", base, "n-t1", headers={"If-Match": etag}, expect=409)
    assert resp.json()["type"].endswith("/illegal-transition")

    # Idempotent creates: same key and body replay; same key, other body conflicts.
    body = {
        "title": "Idempotent",
        "school_ids": enquiry["school_ids"],
        "pupil_group": "Year 4 pupils",
        "question": "How can Year 4 pupils read more fluently?",
    }
    key = {"Idempotency-Key": "enquiry-create-1"}
    first = await api.call("POST", ENQUIRIES, "n-t3", json=body, headers=key, expect=201)
    again = await api.call("POST", ENQUIRIES, "n-t3", json=body, headers=key, expect=201)
    assert first.json()["id"] == again.json()["id"]
    await api.call(
        "POST", ENQUIRIES, "n-t3", json={**body, "title": "Other"}, headers=key, expect=409
    )
    async with demo.session("lessonstudy") as session:
        assert await session.scalar(select(func.count()).where(Enquiry.title == "Idempotent")) == 1

    # Cursor lists.
    await create_enquiry(api, "n-t3", [])
    page = await api.get(ENQUIRIES + "?limit=1", "n-t3")
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = await api.get(f"{ENQUIRIES}?limit=1&cursor={page['next_cursor']}", "n-t3")
    assert rest["items"][0]["id"] != page["items"][0]["id"]

    # Unknown fields and unknown needs are 422, with the location.
    await api.call("POST", ENQUIRIES, "n-t3", json={**body, "colour": "red"}, expect=422)
    resp = await api.call(
        "POST", ENQUIRIES, "n-t3", json={**body, "need_ids": [enquiry["id"]]}, expect=422
    )
    assert resp.json()["errors"][0]["loc"] == "body.need_ids"


async def test_need_links_come_from_the_register(demo: Stack, api: Api) -> None:
    need = await api.post(
        "/v1/needs",
        "n-head",
        {
            "school_id": str(NORTHFIELD),
            "level": "whole_school",
            "title": "Written reasoning in mathematics",
            "need_types": ["skills"],
        },
    )
    await demo.settle()
    enquiry = await create_enquiry(api, "n-t1", [], need_ids=[need["id"]])
    assert enquiry["need_ids"] == [need["id"]]


async def test_gateway_routes_and_documents_collaborative_enquiry(demo: Stack, api: Api) -> None:
    doc = (await demo.gateway.get("/openapi.json")).json()
    for path in (
        "/v1/enquiries",
        "/v1/enquiries/{enquiry_id}/question",
        "/v1/enquiries/{enquiry_id}/report",
        "/v1/learning-communities",
        "/v1/learning-communities/overview",
        "/v1/learning-communities/{community_id}/meetings",
    ):
        assert path in doc["paths"], path
    create = doc["paths"]["/v1/enquiries"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    # Without a token the gateway answers, not the service.
    resp = await demo.gateway.get("/v1/learning-communities")
    assert resp.status_code == 401
