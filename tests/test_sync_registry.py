"""Incremental sync holds for every list and every delete (issue 14), read from the merged
OpenAPI document so a new route cannot slip by.

- Every paged GET list answers ``?updated_since=`` with 200, its items in (``updated_at``,
  ``id``) order (nested lists under a real parent of the demo data).
- Every DELETE operation is mapped to the tombstone resource it records (``DELETES``) or says
  why it records none (``NO_TOMBSTONE``); a new DELETE route that is in neither fails here.
  The behaviour (a tombstone once, in its parent's list, only for who could read it) is
  tested per service (``test_sync*.py`` of audit, evaluation, lessonstudy, gateway).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from cpd_audit import demo as audit_demo
from cpd_audit.models import Base as AuditBase
from cpd_common.pagination import SYNC_PREFIX
from cpd_demo.trust import OAKRIDGE, PEOPLE_BY_KEY
from cpd_evaluation import demo as evaluation_demo
from cpd_evaluation.models import Base as EvaluationBase
from cpd_evaluation.models.measures import Observation
from cpd_evaluation.models.voice import CoachingAgreement
from cpd_gateway.models import Base as GatewayBase
from cpd_gateway.proxy import upstream_for
from cpd_gateway.webhooks.models import WebhookSubscription
from cpd_lessonstudy import demo as lessonstudy_demo
from cpd_lessonstudy.models import Base as LessonstudyBase
from cpd_local.stack import Stack

# Paged lists that are not synced, and why.
NOT_SYNCED = {
    "/v1/trusts": "the platform admin's few trusts; read whole",
    "/v1/me/sessions": "the caller's own sign-in sessions; read whole",
    "/v1/people/search": "a ranked name search; /v1/people syncs the same people",
}

# DELETE operation -> (service, the table its tombstone names).
DELETES = {
    "/v1/groups/{group_id}": ("gateway", "groups"),
    "/scim/v2/Groups/{group_id}": ("gateway", "groups"),
    "/v1/webhooks/{webhook_id}": ("gateway", "webhook_subscriptions"),
    "/v1/audits/{audit_id}": ("audit", "audits"),
    "/v1/alignment-plans/{plan_id}": ("audit", "alignment_plans"),
    "/v1/cpd-plans/{plan_id}": ("audit", "cpd_plans"),
    "/v1/career-plans/{plan_id}": ("audit", "career_plans"),
    "/v1/self-audits/{self_audit_id}": ("audit", "self_audits"),
    "/v1/lesson-studies/{study_id}/members/{member_id}": ("lessonstudy", "study_members"),
    "/v1/lesson-studies/{study_id}/case-pupils/{case_pupil_id}": ("lessonstudy", "case_pupils"),
    "/v1/lesson-studies/{study_id}/research-lessons/{lesson_id}": (
        "lessonstudy",
        "research_lessons",
    ),
    "/v1/lesson-studies/{study_id}/time-records/{record_id}": ("lessonstudy", "time_records"),
    "/v1/enquiries/{enquiry_id}": ("lessonstudy", "enquiries"),
    "/v1/enquiries/{enquiry_id}/members/{member_id}": ("lessonstudy", "enquiry_members"),
    "/v1/learning-communities/{community_id}": ("lessonstudy", "learning_communities"),
    "/v1/learning-communities/{community_id}/activities/{activity_id}": (
        "lessonstudy",
        "community_activities",
    ),
    "/v1/learning-communities/{community_id}/members/{member_id}": (
        "lessonstudy",
        "community_members",
    ),
    "/v1/activities/{activity_id}": ("evaluation", "activities"),
    "/v1/activities/{activity_id}/participants/{participant_id}": ("evaluation", "participants"),
    "/v1/activities/{activity_id}/reflections/{reflection_id}": ("evaluation", "reflections"),
    "/v1/activities/{activity_id}/sessions/{entry_id}": ("evaluation", "coaching_sessions"),
    "/v1/providers/{provider_id}": ("evaluation", "providers"),
    "/v1/evaluations/{plan_id}": ("evaluation", "evaluation_plans"),
    "/v1/evaluations/{plan_id}/measures/{measure_id}": ("evaluation", "measures"),
    "/v1/measures/{measure_id}/observations": ("evaluation", "observations"),
    "/v1/evaluations/{plan_id}/support/{record_id}": ("evaluation", "support_records"),
    "/v1/career-stages/{stage_id}": ("evaluation", "career_stages"),
    "/v1/programmes/{programme_id}": ("evaluation", "programmes"),
}

# Where a DELETE's resource is listed, when not at the DELETE path less its id (None: in a list
# read whole, not paged; its tombstone is there for a client that keeps it all the same).
LISTED_AT: dict[str, str | None] = {
    "/scim/v2/Groups/{group_id}": "/v1/groups",
    "/v1/career-stages/{stage_id}": None,
}

# DELETE operations that record no tombstone, and why.
NO_TOMBSTONE = {
    "/v1/clients/{client_id}": "revokes: the client stays listed, active=false, updated_at moves",
    "/scim/v2/Users/{user_id}": "deactivates the person (an update); erasure tombstones people",
    "/v1/me/sessions/{session_id}": "the caller's sign-in sessions are not synced",
    "/v1/trusts/{trust_id}/sso": "one configuration per trust, not a list",
    "/v1/cpd-plans/{plan_id}/rows/{row_id}": "rows are part of the plan: its updated_at moves",
    "/v1/career-plans/{plan_id}/share/{mentor_id}": "shares are part of the plan, not a list",
    "/v1/evaluations/{plan_id}/audit-rounds": "one pair per plan, not a list",
    "/v1/calendar/feed": "the caller's own feed token, not a list",
}

METADATA = {
    "gateway": GatewayBase.metadata,
    "audit": AuditBase.metadata,
    "evaluation": EvaluationBase.metadata,
    "lessonstudy": LessonstudyBase.metadata,
}
# Who reads the lists: the first demo person of the trust to whom a list answers 200.
READERS = sorted(
    (p.key for p in PEOPLE_BY_KEY.values() if p.trust_id == OAKRIDGE),
    key=lambda k: (k not in ("admin", "n-head"), k),
)
SINCE = "2000-01-01T00:00:00Z"
PARAM = re.compile(r"\{[^}]+\}")


def _paged_lists(doc: dict[str, Any]) -> list[str]:
    out = []
    for path, item in doc["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        ref = op["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if "Page_" in ref.get("schema", {}).get("$ref", ""):
            out.append(path)
    return out


async def _first_id(stack: Stack, path: str) -> str | None:
    for who in READERS:
        headers = await stack.headers_for(PEOPLE_BY_KEY[who].id)
        resp = await stack.gateway.get(path, headers=headers, params={"limit": 1})
        if resp.status_code == 200 and resp.json()["items"]:
            return str(resp.json()["items"][0]["id"])
    return None


async def _concrete(stack: Stack, path: str) -> str | None:
    """``path`` with each id the first item of the list before it (the demo data)."""
    while (match := PARAM.search(path)) is not None:
        found = await _first_id(stack, path[: match.start()].rstrip("/"))
        if found is None:
            return None
        path = path[: match.start()] + found + path[match.end() :]
    return path


def _sync_time(item: dict[str, Any]) -> str | None:
    for name in ("updated_at", "created_at", "released_at"):
        if name in item:
            return str(item[name])
    return None


async def test_every_list_syncs_and_every_delete_is_mapped(demo: Stack) -> None:
    for service, seed in (
        ("audit", audit_demo.seed_demo),
        ("evaluation", evaluation_demo.seed_demo),
        ("lessonstudy", lessonstudy_demo.seed_demo),
    ):
        async with demo.session(service) as session:
            await seed(session)
            await session.commit()
    # What the demo has none of: a webhook subscription; a coaching log's reader is the pair.
    async with demo.session("gateway") as session:
        session.add(
            WebhookSubscription(
                trust_id=OAKRIDGE,
                url="https://example.org/hook",
                event_types=["*"],
                secret_encrypted="never read here",
                created_by="test",
            )
        )
        await session.commit()
    async with demo.session("evaluation") as session:
        pair = (await session.execute(select(CoachingAgreement.activity_id))).first()
        measure = (await session.execute(select(Observation.measure_id))).first()
        assert pair is not None and measure is not None
    doc = (await demo.gateway.get("/openapi.json")).json()
    lists = _paged_lists(doc)
    assert len(lists) >= 50
    assert set(NOT_SYNCED) <= set(lists)
    unresolved, failed, checked = [], [], 0
    for path in sorted(set(lists) - set(NOT_SYNCED)):
        params = doc["paths"][path]["get"].get("parameters", [])
        assert "updated_since" in {p["name"] for p in params}, path
        url = await _concrete(demo, path)
        if path == "/v1/activities/{activity_id}/sessions":
            url = f"/v1/activities/{pair[0]}/sessions"
        if path == "/v1/measures/{measure_id}/observations":
            url = f"/v1/measures/{measure[0]}/observations"
        if url is None:
            unresolved.append(path)
            continue
        resp = None
        for who in READERS:
            headers = await demo.headers_for(PEOPLE_BY_KEY[who].id)
            answer = await demo.gateway.get(url, headers=headers, params={"updated_since": SINCE})
            if resp is None or resp.status_code in (403, 404):
                resp = answer
            if answer.status_code == 200:
                resp = answer
                break
        assert resp is not None
        if resp.status_code != 200:
            failed.append(f"{path}: {resp.status_code} {resp.text[:200]}")
            continue
        items = resp.json()["items"]
        times = [_sync_time(i) for i in items]
        if None not in times:
            keys = [(str(t), i["id"]) for t, i in zip(times, items, strict=True)]
            assert keys == sorted(keys) and len(set(keys)) == len(keys), path
        # Paged, the cursor is the sync's (updated_at, id) one.
        first = await demo.gateway.get(
            url, headers=headers, params={"updated_since": SINCE, "limit": 1}
        )
        assert first.json()["items"] == items[:1], path
        if len(items) > 1:
            assert first.json()["next_cursor"].startswith(SYNC_PREFIX), path
        checked += 1
    assert (failed, unresolved) == ([], [])
    assert checked == len(set(lists) - set(NOT_SYNCED))
    _check_deletes(doc, lists)


def _check_deletes(doc: dict[str, Any], lists: list[str]) -> None:
    """Every DELETE operation is in DELETES or NO_TOMBSTONE; each mapped one names a listed
    table of its own service."""
    deletes = {path for path, item in doc["paths"].items() if "delete" in item}
    assert deletes - set(DELETES) - set(NO_TOMBSTONE) == set(), "map the new DELETE route"
    assert set(DELETES) | set(NO_TOMBSTONE) <= deletes, "a mapped route is gone"
    assert not set(DELETES) & set(NO_TOMBSTONE)
    for path, (service, table) in DELETES.items():
        assert (upstream_for(path) or "gateway") == service, path
        columns = METADATA[service].tables[table].c
        assert "updated_at" in columns or "created_at" in columns, table
        # The resource is listed: the DELETE path less its last id is a paged list.
        listed = LISTED_AT.get(path, path.rsplit("/{", 1)[0] if path.endswith("}") else path)
        assert listed is None or PARAM.sub("{}", listed) in {PARAM.sub("{}", p) for p in lists}
