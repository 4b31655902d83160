"""Tombstones go only to who could read the deleted resource (issue 14, DESIGN.md section 7):
incremental sync must not tell a caller that something existed which its list would never have
shown it. A subscription of one API client is not another client's business; a school's group,
CPD plan or draft audit is not another school's leaders'; an enquiry is its members', its
schools' leaders' and the trust admins'."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cpd_common import tombstones
from cpd_common.auth import Principal
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY
from cpd_local.stack import Stack


def test_reader_marks_meet_an_audience_only_where_the_rule_says() -> None:
    school, other = uuid.uuid4(), uuid.uuid4()
    person = uuid.uuid4()
    leader = Principal(
        sub=f"person:{person}",
        trust_id=uuid.uuid4(),
        school_ids=frozenset({school}),
        roles=frozenset({"school_leader"}),
        person_id=person,
    )
    governor = Principal(
        sub=f"person:{uuid.uuid4()}",
        trust_id=leader.trust_id,
        school_ids=frozenset({school}),
        roles=frozenset({"governor"}),
        person_id=uuid.uuid4(),
    )
    client = Principal(sub="client:abc", trust_id=leader.trust_id, client_id="abc")

    def reads(principal: Principal, audience: list[uuid.UUID]) -> bool:
        return not set(tombstones.reader_marks(principal)).isdisjoint(audience)

    of_school = tombstones.audience(school_roles=("school_leader",), schools=[school])
    assert reads(leader, of_school)
    assert not reads(governor, of_school)
    assert not reads(leader, tombstones.audience(school_roles=("school_leader",), schools=[other]))
    assert reads(leader, tombstones.audience(people=[person]))
    assert reads(client, tombstones.audience(clients=["abc"]))
    assert not reads(client, tombstones.audience(clients=["abd"], roles=("trust_admin",)))
    # A role across the trust is not the same mark as that role in one school.
    assert not reads(leader, tombstones.audience(roles=("governor",)))
    assert reads(leader, tombstones.audience(roles=("school_leader",)))


async def synced(stack: Stack, path: str, headers: dict[str, str], since: str) -> list[str]:
    """The ids of the tombstones the caller's sync of ``path`` shows since ``since``."""
    gone: list[str] = []
    params: dict[str, Any] = {"updated_since": since, "limit": 50}
    while True:
        resp = await stack.gateway.get(path, headers=headers, params=params)
        assert resp.status_code == 200, resp.text
        gone += [i["id"] for i in resp.json()["items"] if i.get("deleted")]
        if not resp.json()["next_cursor"]:
            return gone
        params["cursor"] = resp.json()["next_cursor"]


async def delete(stack: Stack, url: str, headers: dict[str, str]) -> None:
    got = await stack.gateway.get(url, headers=headers)
    assert got.status_code == 200, got.text
    etag = {"If-Match": got.headers["etag"]} if "etag" in got.headers else {}
    resp = await stack.gateway.delete(url, headers={**headers, **etag})
    assert resp.status_code == 204, resp.text


async def as_(stack: Stack, key: str) -> dict[str, str]:
    return await stack.headers_for(PEOPLE_BY_KEY[key].id)


async def test_a_webhook_subscription_tombstone_reaches_its_client_and_admins_only(
    demo: Stack,
) -> None:
    admin = await as_(demo, "admin")
    clients = []
    for name in ("Warehouse", "QA body"):
        made = await demo.gateway.post(
            "/v1/clients", headers=admin, json={"name": name, "roles": ["qa_reader"]}
        )
        assert made.status_code == 201, made.text
        token = await demo.client_token(made.json()["client_id"], made.json()["client_secret"])
        clients.append({"Authorization": f"Bearer {token}"})
    owner, neighbour = clients
    since = datetime.now(UTC).isoformat()
    hook = await demo.gateway.post(
        "/v1/webhooks",
        headers=owner,
        json={"url": "https://93.184.216.34/hook", "event_types": ["cpd.audit.*"]},
    )
    assert hook.status_code == 201, hook.text
    await delete(demo, f"/v1/webhooks/{hook.json()['id']}", owner)

    assert await synced(demo, "/v1/webhooks", owner, since) == [hook.json()["id"]]
    assert await synced(demo, "/v1/webhooks", admin, since) == [hook.json()["id"]]
    assert await synced(demo, "/v1/webhooks", neighbour, since) == []


async def test_a_schools_group_tombstone_skips_other_schools_leaders(demo: Stack) -> None:
    admin = await as_(demo, "admin")
    since = datetime.now(UTC).isoformat()
    made = {}
    for label, school in (("school", str(NORTHFIELD)), ("trust", None)):
        resp = await demo.gateway.post(
            "/v1/groups", headers=admin, json={"name": f"Sync {label} group", "school_id": school}
        )
        assert resp.status_code == 201, resp.text
        made[label] = resp.json()["id"]
        await delete(demo, f"/v1/groups/{made[label]}", admin)

    assert sorted(await synced(demo, "/v1/groups", admin, since)) == sorted(made.values())
    assert sorted(await synced(demo, "/v1/groups", await as_(demo, "n-head"), since)) == sorted(
        made.values()
    )
    # Southbank's head lists trust-wide groups and Southbank's, never Northfield's.
    assert await synced(demo, "/v1/groups", await as_(demo, "s-head"), since) == [made["trust"]]


async def test_an_enquiry_tombstone_reaches_members_leaders_and_admins_only(demo: Stack) -> None:
    lead = await as_(demo, "n-t1")
    since = datetime.now(UTC).isoformat()
    resp = await demo.gateway.post(
        "/v1/enquiries",
        headers=lead,
        json={
            "title": "Written explanations of fractions",
            "school_ids": [str(NORTHFIELD)],
            "subject": "Mathematics",
            "pupil_group": "Year 5 pupils who still rely on drawings.",
            "question": "How can Year 5 pupils explain equivalent fractions in writing?",
            "planned_approach": "Fortnightly book samples from six focus pupils.",
            "member_ids": [str(PEOPLE_BY_KEY[k].id) for k in ("n-t1", "n-t2")],
        },
    )
    assert resp.status_code == 201, resp.text
    enquiry = resp.json()["id"]
    await delete(demo, f"/v1/enquiries/{enquiry}", lead)

    for key in ("n-t1", "n-t2", "n-head", "admin"):
        assert await synced(demo, "/v1/enquiries", await as_(demo, key), since) == [enquiry], key
    for key in ("n-t3", "s-head", "r-admin"):
        assert await synced(demo, "/v1/enquiries", await as_(demo, key), since) == [], key


async def test_a_draft_audit_of_one_school_is_no_tombstone_for_another_schools_leader(
    demo: Stack,
) -> None:
    admin = await as_(demo, "admin")
    listed = await demo.gateway.get("/v1/instruments?limit=200", headers=admin)
    instrument = listed.json()["items"][0]["id"]
    since = datetime.now(UTC).isoformat()
    resp = await demo.gateway.post(
        "/v1/audits",
        headers=admin,
        json={
            "instrument_id": instrument,
            "title": "Northfield draft",
            "scope": {"kind": "school", "school_ids": [str(NORTHFIELD)]},
            "min_group_size": 5,
        },
    )
    assert resp.status_code == 201, resp.text
    audit = resp.json()["id"]
    await delete(demo, f"/v1/audits/{audit}", admin)

    assert await synced(demo, "/v1/audits", admin, since) == [audit]
    assert await synced(demo, "/v1/audits", await as_(demo, "n-head"), since) == [audit]
    for key in ("s-head", "n-t1"):
        assert await synced(demo, "/v1/audits", await as_(demo, key), since) == [], key


async def test_a_schools_cpd_plan_tombstone_skips_other_schools_leaders(demo: Stack) -> None:
    head = await as_(demo, "n-head")
    since = datetime.now(UTC).isoformat()
    resp = await demo.gateway.post(
        "/v1/cpd-plans",
        headers=head,
        json={"school_id": str(NORTHFIELD), "start_year": 2031, "title": "Sync plan"},
    )
    assert resp.status_code == 201, resp.text
    plan = resp.json()["id"]
    await delete(demo, f"/v1/cpd-plans/{plan}", head)

    for key in ("n-head", "admin"):
        assert await synced(demo, "/v1/cpd-plans", await as_(demo, key), since) == [plan], key
    assert await synced(demo, "/v1/cpd-plans", await as_(demo, "s-head"), since) == []
