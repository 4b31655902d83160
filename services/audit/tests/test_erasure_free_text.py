"""Right to erasure leaves no name in the audit service: a person's real name written into
every free-text field (needs, plans, other people's career plans, audits, the trust's
instruments, comments in anonymous answers) is gone after ``directory.person.erased``, read
through the API and straight from the database, field by field."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from cpd_audit.erasure import FORMER_STAFF, FREE_TEXT
from cpd_common.erasure import name_pattern
from cpd_demo.trust import NORTHFIELD, PEOPLE_BY_KEY

ERASED = PEOPLE_BY_KEY["n-t3"]
NAME = ERASED.name
COLLEAGUE = PEOPLE_BY_KEY["n-t2"]


def mention(what: str) -> str:
    return f"{what} with {NAME}"


async def _rows_naming(kit: Any) -> dict[str, int]:
    """For every free-text column, how many rows still contain the name."""
    counts = {}
    async with kit.stack.session("audit") as session:
        for col in FREE_TEXT:
            as_text = f"{col.column}::text" if col.json else col.column
            counts[f"{col.table}.{col.column}"] = int(
                (
                    await session.execute(
                        text(f"SELECT count(*) FROM {col.table} WHERE {as_text} ~* :p"),
                        {"p": name_pattern(NAME)},
                    )
                ).scalar_one()
            )
    return counts


async def _write_the_name_everywhere(kit: Any) -> dict[str, str]:
    gw = kit.gw
    leader = await kit.h("n-head")
    urls: dict[str, str] = {}

    need = await gw.post(
        "/v1/needs",
        headers=leader,
        json={
            "school_id": str(NORTHFIELD),
            "level": "team",
            "team_kind": "phase",
            "team_name": f"{NAME}'s triad",
            "title": mention("Coaching"),
            "description": mention("Weekly coaching"),
            "need_types": ["skills"],
            "evidence": [{"source": "observation", "notes": mention("Seen in a lesson")}],
            "intended_outcomes": {
                "short_term": mention("Plans"),
                "medium_term": mention("Teaches"),
                "long_term": mention("Leads"),
            },
        },
    )
    assert need.status_code == 201, need.text
    urls["need"] = need.headers["location"]
    replayable = {
        "school_id": str(NORTHFIELD),
        "level": "whole_school",
        "title": mention("Retried"),
        "need_types": ["skills"],
    }
    first = await gw.post(
        "/v1/needs", headers={**leader, "Idempotency-Key": "erase-replay"}, json=replayable
    )
    assert first.status_code == 201, first.text

    alignment = await gw.post(
        "/v1/alignment-plans",
        headers=leader,
        json={
            "school_id": str(NORTHFIELD),
            "start_year": 2026,
            "title": mention("Alignment"),
            "notes": mention("Agreed"),
            "grid": {"attainment_and_progress": {"this_year": {"strengths": [mention("Phonics")]}}},
        },
    )
    assert alignment.status_code == 201, alignment.text
    urls["alignment plan"] = alignment.headers["location"]

    cpd = await gw.post(
        "/v1/cpd-plans",
        headers=leader,
        json={
            "school_id": str(NORTHFIELD),
            "start_year": 2026,
            "title": mention("CPD plan"),
            "notes": mention("Budget agreed"),
            "rows": [
                {
                    "need_id": need.json()["id"],
                    "month": "2026-11",
                    "activity": mention("Coaching cycle"),
                    # Initials only: the link to the person decides, not the spelling.
                    "responsible": "S. P.",
                    "responsible_person_id": str(ERASED.id),
                    "notes": mention("Cover booked"),
                    "cost": "150.00",
                },
                {
                    "need_id": need.json()["id"],
                    "month": "2026-12",
                    "activity": "Follow-up",
                    "responsible": NAME,
                    "cost": "50.00",
                },
            ],
        },
    )
    assert cpd.status_code == 201, cpd.text
    urls["CPD plan"] = cpd.headers["location"]

    career = await gw.post(
        "/v1/career-plans",
        headers=await kit.h("n-t2"),
        json={
            "title": mention("Growing"),
            "start_year": 2026,
            "came_from": {"notes": mention("Trained")},
            "where_i_am": {"mentor_discussion": mention("Talked")},
            "aims_three_years": {"experience": mention("Co-plan")},
            "aims_five_years": {"aim": mention("Lead")},
            "strengths": [{"strength": "Questioning", "evidence": mention("Observed")}],
            "aspects_to_develop": [
                {"aspect": "Feedback", "kind": "skills", "how_identified": mention("Review")}
            ],
            "action_plan": [{"action": mention("Observe"), "responsible": NAME}],
        },
    )
    assert career.status_code == 201, career.text
    urls["career plan"] = career.headers["location"]

    instrument = await gw.post(
        "/v1/instruments",
        headers=leader,
        json={
            "title": mention("Pulse"),
            "description": mention("Written"),
            "sections": [{"key": "s1", "title": mention("Coaching")}],
            "items": [
                {"key": "q1", "section": "s1", "type": "agreement", "text": mention("I work")},
                {"key": "q2", "section": "s1", "type": "free_text", "text": "Anything else?"},
            ],
        },
    )
    assert instrument.status_code == 201, instrument.text
    urls["instrument"] = instrument.headers["location"]

    audit = await kit.create_audit(
        instrument_id=instrument.json()["id"],
        scope={"kind": "school", "school_ids": [str(NORTHFIELD)]},
        as_="n-head",
        k=3,
        title=mention("Pulse round"),
    )
    urls["audit"] = f"/v1/audits/{audit['id']}"
    described = await gw.patch(
        urls["audit"],
        headers={
            **leader,
            "If-Match": (await gw.get(urls["audit"], headers=leader)).headers["etag"],
        },
        json={"description": mention("Run")},
    )
    assert described.status_code == 200, described.text
    await kit.transition(audit["id"], "open", as_="n-head")
    for who in ("n-t1", "n-t2", "n-t4", "n-t5"):
        await kit.respond(
            audit["id"], who, {"q1": {"score": 4}, "q2": {"text": mention("Loved working")}}
        )
    await kit.transition(audit["id"], "close", as_="n-head")
    urls["results"] = f"/v1/audits/{audit['id']}/results"
    return urls


async def test_erasure_takes_the_name_out_of_every_free_text_field(kit: Any) -> None:
    urls = await _write_the_name_everywhere(kit)
    before = await _rows_naming(kit)
    # The test covers every column the erasure sweeps: each one holds the name now.
    assert [col for col, n in before.items() if n == 0] == []

    admin = await kit.h("admin")
    erased = await kit.gw.post(f"/v1/people/{ERASED.id}/erase", headers=admin)
    assert erased.status_code == 202, erased.text
    await kit.stack.settle()

    after = await _rows_naming(kit)
    assert {col: n for col, n in after.items() if n} == {}
    headers = {"career plan": await kit.h("n-t2")}
    for what, url in urls.items():
        resp = await kit.gw.get(url, headers=headers.get(what, await kit.h("n-head")))
        assert resp.status_code == 200, (what, resp.text)
        assert not re.search(re.escape(NAME), resp.text, re.IGNORECASE), (what, resp.text)
    # A retried create replays its stored response: without the name too.
    replay = await kit.gw.post(
        "/v1/needs",
        headers={**(await kit.h("n-head")), "Idempotency-Key": "erase-replay"},
        json={
            "school_id": str(NORTHFIELD),
            "level": "whole_school",
            "title": mention("Retried"),
            "need_types": ["skills"],
        },
    )
    assert replay.status_code == 201, replay.text
    assert NAME.lower() not in replay.text.lower()
    assert replay.json()["title"] == f"Retried with {FORMER_STAFF}"
    # Where the name was, the text says who it was without naming them.
    cpd = (await kit.gw.get(urls["CPD plan"], headers=await kit.h("n-head"))).json()
    assert sorted(r["responsible"] for r in cpd["rows"]) == [FORMER_STAFF, FORMER_STAFF]
    assert cpd["title"] == f"CPD plan with {FORMER_STAFF}"
    results = (await kit.gw.get(urls["results"], headers=await kit.h("n-head"))).json()
    q2 = next(i for i in results["items"] if i["item_key"] == "q2")
    assert q2["comments"] == [f"Loved working with {FORMER_STAFF}"] * 4
