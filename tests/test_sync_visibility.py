"""A tombstone reaches exactly who could list what it replaces (issue 14, DESIGN.md section 7),
checked generically: each service restates its list's read rule when it records a tombstone's
audience (``cpd_common.tombstones.audience``), and the two can drift either way. A tombstone
shown to someone who never listed the resource tells them it existed (a leak); one kept from
someone who listed it leaves a deleted item in their copy for good.

For each case the resource is made the way a real user would, with data that makes the read
rule interesting (one school of two, participants, a mentor in another school, a line manager
who is not a leader ...). Then every demo person of both trusts and an API client of each
trust syncs the list (``?updated_since=``, paged through, the very request a sync client
makes) and it is noted who sees the resource; then it is deleted (or its person erased), and
each caller's sync must show the tombstone if and only if that caller listed it before. Each
case also needs at least one reader and one caller who was not, so an audience that is too
narrow or too wide fails alike. ``tests/test_sync_audiences.py`` attacks the first five
resource types by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cpd_demo.trust import CLIENTS, NORTHFIELD, PEOPLE_BY_KEY, SOUTHBANK
from cpd_local.stack import Stack

Headers = dict[str, str]


@dataclass
class Seen:
    """One caller's sync of one list: the live ids and the tombstones' ids."""

    live: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)


async def callers(stack: Stack) -> dict[str, Headers]:
    """Every demo person (both trusts), the demo's two Oakridge API clients and a QA client of
    Riverside, each with headers for its own token."""
    out = {key: await stack.headers_for(p.id) for key, p in PEOPLE_BY_KEY.items()}
    for client in CLIENTS:
        token = await stack.client_token(client.client_id, client.secret)
        out[f"client:{client.client_id}"] = {"Authorization": f"Bearer {token}"}
    made = await stack.gateway.post(
        "/v1/clients",
        headers=out["r-admin"],
        json={"name": "Riverside QA body", "roles": ["qa_reader"]},
    )
    assert made.status_code == 201, made.text
    token = await stack.client_token(made.json()["client_id"], made.json()["client_secret"])
    out["client:riverside-qa"] = {"Authorization": f"Bearer {token}"}
    return out


async def sync(stack: Stack, path: str, headers: Headers, since: str) -> Seen | None:
    """What a caller's sync of ``path`` from ``since`` shows; None when the caller may not
    list it at all (403)."""
    seen = Seen()
    params: dict[str, Any] = {"updated_since": since, "limit": 200}
    while True:
        resp = await stack.gateway.get(path, headers=headers, params=params)
        if resp.status_code == 403 and "cursor" not in params:
            return None
        assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text}"
        for item in resp.json()["items"]:
            (seen.gone if item.get("deleted") else seen.live).add(item["id"])
        if not resp.json()["next_cursor"]:
            return seen
        params["cursor"] = resp.json()["next_cursor"]


async def sync_all(
    stack: Stack, who: dict[str, Headers], path: str, since: str, *, skip: Iterable[str] = ()
) -> dict[str, Seen | None]:
    left_out = set(skip)
    return {
        key: await sync(stack, path, headers, since)
        for key, headers in who.items()
        if key not in left_out
    }


def check(
    case: str,
    resource_id: str,
    before: dict[str, Seen | None],
    after: dict[str, Seen | None],
    *,
    expect_readers: Iterable[str] = (),
    expect_outsiders: Iterable[str] = (),
) -> None:
    """The invariant: after the deletion, exactly the callers who listed ``resource_id``
    before (and are still there) see its tombstone, and none of them sees it live."""
    readers = {k for k, seen in before.items() if seen is not None and resource_id in seen.live}
    told = {k for k, seen in after.items() if seen is not None and resource_id in seen.gone}
    still = {k for k, seen in after.items() if seen is not None and resource_id in seen.live}
    leaked = told - readers
    missing = (readers & after.keys()) - told
    assert not leaked, f"{case}: a tombstone reached callers who could not list it: {leaked}"
    assert not missing, f"{case}: callers who listed it got no tombstone: {missing}"
    assert not (still - told), f"{case}: still listed after the deletion to {still - told}"
    for key in after:
        assert (before[key] is None) == (after[key] is None), f"{case}: {key} lost or won the list"
    # The case means something only with readers and outsiders, as the brief of each says.
    assert set(expect_readers) <= readers, (
        f"{case}: {set(expect_readers) - readers} did not list it"
    )
    outsiders = set(expect_outsiders) & readers
    assert not outsiders, f"{case}: {outsiders} listed it, which the case does not expect"
    assert readers and set(before) - readers, f"{case}: everyone or no one listed it"


def now() -> str:
    return datetime.now(UTC).isoformat()


def ids(*keys: str) -> list[str]:
    return [str(PEOPLE_BY_KEY[k].id) for k in keys]


async def post(stack: Stack, path: str, headers: Headers, body: dict[str, Any]) -> str:
    resp = await stack.gateway.post(path, headers=headers, json=body)
    assert resp.status_code in (200, 201), f"{path}: {resp.status_code} {resp.text}"
    return str(resp.json()["id"])


async def delete(stack: Stack, url: str, headers: Headers) -> None:
    got = await stack.gateway.get(url, headers=headers)
    assert got.status_code == 200, got.text
    etag = {"If-Match": got.headers["etag"]} if "etag" in got.headers else {}
    resp = await stack.gateway.delete(url, headers={**headers, **etag})
    assert resp.status_code == 204, f"{url}: {resp.status_code} {resp.text}"


async def delete_and_check(
    stack: Stack,
    who: dict[str, Headers],
    path: str,
    cases: list[tuple[str, str, str, list[str], list[str]]],
    since: str,
) -> None:
    """``cases``: (name, id, deleted by, expected readers, expected outsiders), all made
    since ``since``; one sync of everyone before and one after deleting them all."""
    await stack.settle()
    before = await sync_all(stack, who, path, since)
    for _, resource_id, by, _, _ in cases:
        await delete(stack, f"{path}/{resource_id}", who[by])
    await stack.settle()
    after = await sync_all(stack, who, path, since)
    for name, resource_id, _, readers, outsiders in cases:
        check(
            name,
            resource_id,
            before,
            after,
            expect_readers=readers,
            expect_outsiders=outsiders,
        )


def activity(title: str, school_ids: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "title": title,
        "kind": "course",
        "school_ids": school_ids,
        "subject_specific": True,
        "subject": "Mathematics",
        "focus": "Open questions that make pupils explain their reasoning.",
        "sessions": [{"title": "Day 1", "held_on": "2025-10-06", "duration_minutes": 360}],
        "costs": {"fees": "450.00", "materials": "20", "supply_cover": "360"},
        "release_time_hours": 6,
        **fields,
    }


async def add_participant(stack: Stack, activity_id: str, headers: Headers, person: str) -> None:
    resp = await stack.gateway.post(
        f"/v1/activities/{activity_id}/participants",
        headers=headers,
        json={"person_id": str(PEOPLE_BY_KEY[person].id)},
    )
    assert resp.status_code == 201, resp.text


async def test_activity_tombstones_reach_exactly_their_readers(demo: Stack) -> None:
    who = await callers(demo)
    since = now()
    # A teacher's own CPD (they join it), which their head adds a colleague to: staff of the
    # school who neither recorded it nor take part do not list it; its school's leaders do.
    own = await post(
        demo, "/v1/activities", who["n-t1"], activity("Own maths course", [str(NORTHFIELD)])
    )
    await add_participant(demo, own, who["n-head"], "n-t3")
    # Southbank's, recorded by the trust admin, with a Northfield teacher taking part:
    # Northfield's leaders do not list it, the Northfield participant does.
    crossing = await post(
        demo, "/v1/activities", who["admin"], activity("Science network", [str(SOUTHBANK)])
    )
    for person in ("n-t2", "s-t3"):
        await add_participant(demo, crossing, who["admin"], person)
    # Both schools', recorded by a deputy, nobody taking part.
    shared = await post(
        demo,
        "/v1/activities",
        who["n-deputy"],
        activity("Trust INSET day", [str(NORTHFIELD), str(SOUTHBANK)]),
    )
    await delete_and_check(
        demo,
        who,
        "/v1/activities",
        [
            (
                "a teacher's own activity",
                own,
                "n-t1",
                ["n-t1", "n-t3", "n-head", "n-deputy", "admin"],
                ["n-t2", "n-gov", "s-head", "r-admin", "client:demo-qa"],
            ),
            (
                "Southbank's activity with a Northfield participant",
                crossing,
                "admin",
                ["admin", "s-head", "n-t2", "s-t3"],
                ["n-head", "n-deputy", "s-t1", "s-gov"],
            ),
            (
                "an activity of both schools",
                shared,
                "n-deputy",
                ["n-head", "n-deputy", "s-head", "admin"],
                ["n-t1", "s-t1", "r-admin"],
            ),
        ],
        since,
    )


def evaluation(title: str, activity_ids: list[str]) -> dict[str, Any]:
    return {
        "title": title,
        "activity_ids": activity_ids,
        "design_check": {
            "reaches_pupil_outcomes": True,
            "note": "Teachers learn the questions, use them daily, pupils explain more.",
        },
        "short_term_outcome": "Teachers ask open reasoning questions in most lessons.",
        "medium_term_outcome": "Year 5 pupils score higher on reasoning items.",
        "levels": ["reactions", "use_of_knowledge_and_skills", "pupil_outcomes"],
    }


async def test_evaluation_plan_tombstones_reach_exactly_their_readers(demo: Stack) -> None:
    who = await callers(demo)
    northfield = await post(
        demo, "/v1/activities", who["n-head"], activity("Reasoning course", [str(NORTHFIELD)])
    )
    southbank = await post(
        demo, "/v1/activities", who["s-head"], activity("Algebra course", [str(SOUTHBANK)])
    )
    moving = await post(
        demo, "/v1/activities", who["admin"], activity("Fractions course", [str(NORTHFIELD)])
    )
    since = now()
    own = await post(demo, "/v1/evaluations", who["n-head"], evaluation("Northfield", [northfield]))
    both = await post(demo, "/v1/evaluations", who["admin"], evaluation("Both", [southbank]))
    # A plan recorded for Northfield whose activity then moves to Southbank covers both.
    moved = await post(demo, "/v1/evaluations", who["admin"], evaluation("Moved", [moving]))
    got = await demo.gateway.get(f"/v1/activities/{moving}", headers=who["admin"])
    patched = await demo.gateway.patch(
        f"/v1/activities/{moving}",
        headers={**who["admin"], "If-Match": got.headers["etag"]},
        json={"school_ids": [str(SOUTHBANK)]},
    )
    assert patched.status_code == 200, patched.text
    await delete_and_check(
        demo,
        who,
        "/v1/evaluations",
        [
            (
                "a Northfield plan",
                own,
                "n-head",
                ["n-head", "n-deputy", "n-gov", "admin"],
                ["s-head", "s-gov", "n-t1", "r-admin", "client:demo-qa"],
            ),
            (
                "a Southbank plan",
                both,
                "admin",
                ["s-head", "s-gov", "admin"],
                ["n-head", "n-gov", "s-t1"],
            ),
            (
                "a plan whose activity moved school",
                moved,
                "admin",
                ["n-head", "n-gov", "s-head", "s-gov", "admin"],
                ["n-t1", "s-t1"],
            ),
        ],
        since,
    )


async def test_alignment_plan_tombstones_reach_exactly_their_readers(demo: Stack) -> None:
    who = await callers(demo)
    since = now()
    northfield = await post(
        demo,
        "/v1/alignment-plans",
        who["n-head"],
        {"school_id": str(NORTHFIELD), "start_year": 2031},
    )
    southbank = await post(
        demo,
        "/v1/alignment-plans",
        who["admin"],
        {"school_id": str(SOUTHBANK), "start_year": 2031, "notes": "Draft for the governors."},
    )
    await delete_and_check(
        demo,
        who,
        "/v1/alignment-plans",
        [
            (
                "Northfield's alignment plan",
                northfield,
                "n-head",
                ["n-head", "n-t1", "n-ta1", "n-s1", "n-gov", "admin"],
                ["s-head", "s-t1", "s-gov", "r-admin", "r-t1", "client:demo-qa"],
            ),
            (
                "Southbank's alignment plan",
                southbank,
                "admin",
                ["s-head", "s-t8", "s-gov", "admin"],
                ["n-head", "n-t1", "n-gov"],
            ),
        ],
        since,
    )


async def test_an_erased_persons_tombstones_reach_exactly_their_readers(demo: Stack) -> None:
    """Erasing Chris Walker (a Southbank teacher whose line manager, Nadia Rahman, is a
    teacher, who shares a career plan with a Northfield mentor) tombstones his individual
    need, his CPD request and himself in the people list."""
    who = await callers(demo)
    person = PEOPLE_BY_KEY["s-t2"]
    mentor = PEOPLE_BY_KEY["n-t1"]
    # A sync from before the demo was seeded, so the person is in it as well as what is made.
    since = "2020-01-01T00:00:00Z"
    plan = await post(
        demo,
        "/v1/career-plans",
        who["s-t2"],
        {"title": "Becoming a maths lead", "start_year": 2026},
    )
    shared = await demo.gateway.post(
        f"/v1/career-plans/{plan}/share", headers=who["s-t2"], json={"mentor_id": str(mentor.id)}
    )
    assert shared.status_code in (200, 201), shared.text
    need = await post(
        demo,
        "/v1/needs",
        who["s-head"],
        {
            "school_id": str(SOUTHBANK),
            "level": "individual",
            "person_id": str(person.id),
            "title": "Questioning in year 8 science",
            "need_types": ["skills"],
        },
    )
    request = await post(
        demo,
        "/v1/cpd-requests",
        who["s-t2"],
        {
            "kind": "study",
            "school_id": str(SOUTHBANK),
            "institution": "Open University",
            "course": "Postgraduate certificate in mathematics education",
            "starts_on": "2027-02-01",
            "ends_on": "2027-07-15",
            "cost": "1200.00",
            "rationale": "Subject knowledge for leading key stage 3 maths.",
        },
    )
    lists = {
        "/v1/needs": (
            need,
            ["s-t2", "s-t1", "n-t1", "s-head", "admin"],
            ["s-t3", "n-head", "s-gov", "r-admin", "client:demo-qa"],
        ),
        "/v1/cpd-requests": (
            request,
            ["s-t2", "s-head", "admin"],
            ["s-t1", "n-t1", "n-head", "s-gov", "r-admin"],
        ),
        "/v1/people": (
            str(person.id),
            ["s-t2", "s-head", "admin"],
            ["s-t1", "n-head", "s-gov", "r-admin", "client:demo-qa"],
        ),
    }
    await demo.settle()
    before = {path: await sync_all(demo, who, path, since) for path in lists}
    erased = await demo.gateway.post(f"/v1/people/{person.id}/erase", headers=who["admin"])
    assert erased.status_code == 202, erased.text
    await demo.settle()
    for path, (resource_id, readers, outsiders) in lists.items():
        # The erased person's own token is revoked: no sync of theirs to ask.
        after = await sync_all(demo, who, path, since, skip=["s-t2"])
        check(
            f"{path} after the erasure",
            resource_id,
            before[path],
            after,
            expect_readers=readers,
            expect_outsiders=outsiders,
        )
