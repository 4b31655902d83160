"""People's CPD records: hours, subject-specific and sustained shares, hours by kind and the
entitlement pro-rated by FTE and the part of the year employed, checked against figures
computed here; who may read them; CSV and xAPI exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from cpd_demo.trust import NORTHFIELD
from cpd_local.stack import Stack

from .conftest import Api, person_id

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "xapi-statement-2.0.json").read_text())
YEAR = "2025-26"
STARTED = date(2026, 1, 5)


def sessions(*days: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"held_on": d, "duration_minutes": m} for d, m in days]


def target(annual: str, fte: str, start: date) -> Decimal:
    """annual x FTE x days employed / days in the academic year, to 2 places."""
    first, last = date(2025, 9, 1), date(2026, 8, 31)
    days = (last - max(start, first)).days + 1
    share = Decimal(days) / Decimal((last - first).days + 1)
    return (Decimal(annual) * Decimal(fte) * share).quantize(Decimal("0.01"), ROUND_HALF_UP)


async def _new_teacher(demo: Stack, api: Api) -> str:
    person = await api.post(
        "/v1/people",
        "admin",
        {
            "name": "Nia Brooks",
            "school_ids": [str(NORTHFIELD)],
            "staff_group": "teacher",
            "fte": 0.6,
            "start_date": STARTED.isoformat(),
            "roles": ["staff"],
        },
    )
    await demo.settle()
    return str(person["id"])


async def _attend(api: Api, activity: dict[str, Any], nia: str, **fields: Any) -> None:
    participant = await api.add(activity["id"], "n-head", nia, **fields)
    if "hours" not in fields:
        await api.put(
            f"/{activity['id']}/attendance",
            "n-head",
            {
                "marks": [
                    {"participant_id": participant["id"], "session_id": s["id"], "attended": True}
                    for s in activity["sessions"]
                ]
            },
        )


async def test_a_part_time_teacher_who_started_in_january(demo: Stack, api: Api) -> None:
    nia = await _new_teacher(demo, api)
    maths = await api.create_activity(
        title="Maths mastery: reasoning",
        sessions=sessions(("2026-01-12", 360), ("2026-03-02", 360)),
    )
    inset = await api.create_activity(
        title="Behaviour INSET",
        kind="inset",
        subject_specific=False,
        subject=None,
        sessions=sessions(("2026-01-05", 300)),
    )
    coaching = await api.create_activity(
        title="Coaching on reading fluency",
        kind="coaching",
        subject="English",
        sessions=sessions(("2026-02-02", 60), ("2026-02-23", 60)),
    )
    formula = await api.create_activity(
        title='=HYPERLINK("http://x")',
        kind="conference",
        subject_specific=False,
        subject=None,
        sessions=sessions(("2026-06-20", 120)),
    )
    cancelled = await api.create_activity(
        title="Cancelled course", sessions=sessions(("2026-04-20", 360))
    )
    last_year = await api.create_activity(
        title="Last year's course", sessions=sessions(("2025-06-10", 360))
    )
    for activity in (maths, inset, cancelled, last_year):
        await _attend(api, activity, nia)
    await _attend(api, coaching, nia, hours="3.5")
    await _attend(api, formula, nia, hours="0")
    await api.post(f"/{cancelled['id']}/cancel", "n-head", expect=200)

    record = await api.get(f"/v1/cpd-records/me?year={YEAR}", nia)
    assert record["person_id"] == nia and record["name"] == "Nia Brooks"
    assert record["academic_year"] == YEAR
    assert (record["period_start"], record["period_end"]) == ("2025-09-01", "2026-08-31")
    by_title = {a["title"]: a for a in record["activities"]}
    assert set(by_title) == {
        "Maths mastery: reasoning",
        "Behaviour INSET",
        "Coaching on reading fluency",
        '=HYPERLINK("http://x")',
    }
    assert by_title["Maths mastery: reasoning"]["hours"] == 12.0
    assert by_title["Maths mastery: reasoning"]["sustained"] is True
    assert by_title["Behaviour INSET"]["hours"] == 5.0
    assert by_title["Coaching on reading fluency"]["hours_basis"] == "recorded"

    hours = {"maths": Decimal(720) / 60, "inset": Decimal(300) / 60, "coaching": Decimal("3.5")}
    total = sum(hours.values())
    subject = hours["maths"] + hours["coaching"]
    assert record["total_hours"] == float(total) == 20.5
    assert record["subject_specific_hours"] == float(subject)
    assert record["subject_specific_share"] == round(float(subject / total), 4)
    assert record["sustained_hours"] == float(hours["maths"])
    assert record["sustained_share"] == round(float(hours["maths"] / total), 4)
    assert record["by_kind"] == [
        {"kind": "coaching", "activities": 1, "hours": 3.5},
        {"kind": "conference", "activities": 1, "hours": 0.0},
        {"kind": "course", "activities": 1, "hours": 12.0},
        {"kind": "inset", "activities": 1, "hours": 5.0},
    ]
    expected = target("35", "0.6", STARTED)
    entitlement = record["entitlement"]
    assert entitlement["annual_hours"] == 35.0 and entitlement["fte"] == 0.6
    assert entitlement["employed_from"] == "2026-01-05"
    assert entitlement["employed_share"] == round(239 / 365, 4)
    assert entitlement["target_hours"] == float(expected) == 13.75
    assert entitlement["met"] is True and entitlement["remaining_hours"] == 0.0
    assert entitlement["progress"] == round(float(total / expected), 4)

    # The trust raises its entitlement: the target follows.
    await api.put("/v1/entitlement", "n-head", {"annual_hours": 60}, expect=403)
    setting = await api.put("/v1/entitlement", "admin", {"annual_hours": 60})
    assert setting["annual_hours"] == 60.0 and setting["is_default"] is False
    assert (await api.get("/v1/entitlement", "n-t1"))["annual_hours"] == 60.0
    assert (await api.get("/v1/entitlement", "r-admin"))["is_default"] is True
    record = await api.get(f"/v1/cpd-records/{nia}?year={YEAR}", "n-head")
    expected = target("60", "0.6", STARTED)
    assert record["entitlement"]["target_hours"] == float(expected)
    assert record["entitlement"]["met"] is False
    assert record["entitlement"]["remaining_hours"] == float(expected - total)

    # Last year's course counts in last year.
    previous = await api.get(f"/v1/cpd-records/{nia}?year=2024-25", "admin")
    assert [a["title"] for a in previous["activities"]] == ["Last year's course"]
    assert previous["entitlement"]["target_hours"] == 0.0  # not employed then
    assert previous["entitlement"]["progress"] is None

    # CSV: a row per activity, formulas neutralised.
    resp = await api.call("GET", f"/v1/cpd-records/{nia}/record.csv?year={YEAR}", "admin")
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    titles = [r["title"] for r in rows]
    assert '\'=HYPERLINK("http://x")' in titles and '=HYPERLINK("http://x")' not in titles
    assert rows[-2]["title"] == "Total" and float(rows[-2]["hours"]) == 20.5
    assert float(rows[-1]["hours"]) == float(expected)
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())

    # xAPI 2.0 statements, valid against the statement schema.
    statements = await api.get(f"/v1/cpd-records/me/xapi?year={YEAR}", nia)
    assert len(statements) == 4
    validator = Draft202012Validator(SCHEMA)
    for statement in statements:
        errors = sorted(validator.iter_errors(statement), key=str)
        assert not errors, errors
    maths_statement = next(
        s for s in statements if s["object"]["definition"]["name"]["en-GB"] == maths["title"]
    )
    assert maths_statement["result"]["duration"] == "PT12H0M"
    assert maths_statement["actor"]["account"]["name"] == nia
    assert maths_statement["timestamp"] == "2026-01-12T00:00:00Z"
    # The schema does reject a broken statement.
    broken = {**maths_statement, "verb": {"display": {"en-GB": "attended"}}}
    assert list(validator.iter_errors(broken))


async def test_who_may_read_a_record(demo: Stack, api: Api) -> None:
    teacher = person_id("n-t1")
    path = f"/v1/cpd-records/{teacher}"
    for who in ("n-t1", "n-head", "n-deputy", "admin"):
        await api.call("GET", path, who)
        await api.call("GET", path + "/record.csv", who)
        await api.call("GET", path + "/xapi", who)
    for who in ("n-t2", "s-head", "n-gov", "r-admin", "r-t1"):
        await api.call("GET", path, who, expect=404)
        await api.call("GET", path + "/record.csv", who, expect=404)
        await api.call("GET", path + "/xapi", who, expect=404)
    await api.call(
        "GET", "/v1/cpd-records/0190f0c4-0000-7000-8000-000000000009", "admin", expect=404
    )
    await api.call("GET", "/v1/cpd-records/me?year=2025-27", "n-t1", expect=422)
    await api.call("GET", "/v1/cpd-records/me?year=25-26", "n-t1", expect=422)
    empty = await api.get("/v1/cpd-records/me?year=2025-26", "n-t1")
    assert empty["total_hours"] == 0.0 and empty["subject_specific_share"] is None
    assert empty["entitlement"]["target_hours"] == 35.0 and empty["activities"] == []
