"""CSV uploads of observations: stored whole or not at all, every bad row named by its line,
columns that would name a pupil refused, pupil ids pseudonymised, and a retried upload with
its Idempotency-Key storing nothing twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from cpd_evaluation.models.measures import Observation
from cpd_local.stack import Stack

from .conftest import Api, person_id
from .test_measures import PLANS, new_measure, new_plan

HEADER = "pupil_id,phase,value,date,disadvantaged,send,year_group,group\n"
GOOD = HEADER + (
    "A100000000001,baseline,31,2025-09-15,true,false,Year 5,cpd\n"
    "A100000000002,baseline,44,2025-09-15,no,yes,Year 5,cpd\n"
    "A100000000003,baseline,38,,0,0,,comparison\n"
)


async def upload(
    api: Api,
    measure: str,
    body: str | bytes,
    *,
    expect: int = 201,
    who: str = "n-head",
    query: str = "",
    headers: dict[str, str] | None = None,
) -> Any:
    resp = await api.call(
        "POST",
        f"/v1/measures/{measure}/observations{query}",
        who,
        content=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": "text/csv", **(headers or {})},
        expect=expect,
    )
    return resp.json()


async def stored(stack: Stack) -> int:
    async with stack.session("evaluation") as session:
        return int(await session.scalar(select(func.count()).select_from(Observation)) or 0)


async def test_a_good_csv_is_stored_with_pseudonyms_and_flags(demo: Stack, api: Api) -> None:
    mid = await new_measure(api, await new_plan(api))
    key = {"Idempotency-Key": "csv-1"}
    result = await upload(api, mid, GOOD, headers=key)
    assert result["rows"] == result["inserted"] == 3
    assert result["phases"]["baseline"] == 3
    items = (await api.get(f"/v1/measures/{mid}/observations", "n-head"))["items"]
    assert sorted((o["value"], o["disadvantaged"], o["send"], o["group"]) for o in items) == [
        (31.0, True, False, "cpd"),
        (38.0, False, False, "comparison"),
        (44.0, False, True, "cpd"),
    ]
    assert {o["observed_on"] for o in items} == {"2025-09-15", None}
    assert all(len(o["subject_key"]) == 64 for o in items)
    async with demo.session("evaluation") as session:
        clear = await session.scalar(
            text("SELECT count(*) FROM observations o WHERE o::text LIKE '%A10000000000%'")
        )
    assert clear == 0
    # Retried with its key: the first answer again, nothing stored twice.
    assert await upload(api, mid, GOOD, headers=key) == result
    assert await stored(demo) == 3
    # Re-sent without it: the held subjects and phase are a 409 naming each row.
    conflict = await upload(api, mid, GOOD, expect=409)
    assert [e["loc"] for e in conflict["errors"]] == [
        "body.rows.2.phase",
        "body.rows.3.phase",
        "body.rows.4.phase",
    ]
    # A corrected file replaces the held values with replace=true.
    fixed = await upload(api, mid, GOOD.replace(",44,", ",45,"), query="?replace=true")
    assert (fixed["inserted"], fixed["replaced"]) == (0, 3)
    values = {
        o["value"] for o in (await api.get(f"/v1/measures/{mid}/observations", "n-head"))["items"]
    }
    assert values == {31.0, 45.0, 38.0}
    assert await stored(demo) == 3

    # Downloaded, the data comes back by pseudonym only.
    export = await api.call("GET", f"/v1/measures/{mid}/observations.csv", "n-head")
    assert export.headers["content-type"].startswith("text/csv")
    lines = export.text.splitlines()
    assert lines[0] == "subject_key,phase,value,date,disadvantaged,send,year_group,group"
    assert len(lines) == 4 and "A10000000000" not in export.text
    assert {line.split(",")[2] for line in lines[1:]} == {"31", "45", "38"}
    assert sorted(line.split(",")[7] for line in lines[1:]) == ["comparison", "cpd", "cpd"]
    await api.call("GET", f"/v1/measures/{mid}/observations.csv", "n-gov", expect=403)
    await api.call("GET", f"/v1/measures/{mid}/observations.csv", "r-admin", expect=404)


async def test_one_bad_row_stores_nothing_and_each_bad_row_is_named(demo: Stack, api: Api) -> None:
    mid = await new_measure(api, await new_plan(api))
    body = HEADER + (
        "A1,baseline,31,2025-09-15,true,false,Year 5,cpd\n"
        "A2,baseline,forty,2025-09-15,true,false,Year 5,cpd\n"  # line 3: not a number
        "A3,end_of_year,20,,,,,\n"  # line 4: no such phase
        "A4,baseline,20,15/09/2025,maybe,,,treatment\n"  # line 5: date, flag, group
        "Sam Jones,baseline,20,,,,,\n"  # line 6: a name where the id goes
        "A1,baseline,32,,,,,\n"  # line 7: A1 again at baseline
        "A8,baseline,99,,,,,\n"  # line 8: above the scale's 60
        "A9,baseline\n"  # line 9: too few cells
        ",baseline,,,,,,\n"  # line 10: no id, no value
    )
    resp = await upload(api, mid, body, expect=422)
    assert [(e["loc"], e["msg"]) for e in resp["errors"]] == [
        ("body.rows.3.value", "value must be a number (digits, '.' for decimals)"),
        ("body.rows.4.phase", "phase must be one of baseline, short_term, medium_term"),
        ("body.rows.5.date", "date must be YYYY-MM-DD"),
        ("body.rows.5.disadvantaged", "disadvantaged must be true or false (or 1 / 0, yes / no)"),
        ("body.rows.5.group", "group must be cpd or comparison"),
        ("body.rows.6.pupil_id", resp["errors"][5]["msg"]),
        ("body.rows.8.value", "value is outside the measure's scale (0 to 60)"),
        ("body.rows.9.row", "has 2 cells; the header has 8"),
        ("body.rows.10.pupil_id", "pupil_id is required"),
        ("body.rows.10.value", "value is required"),
        ("body.rows.7.phase", "the same subject and phase as row 2"),
    ]
    assert "Sam Jones" not in str(resp)
    assert resp["detail"].startswith("8 rows have problems; nothing was stored.")
    assert await stored(demo) == 0


async def test_columns_that_name_a_pupil_are_refused(demo: Stack, api: Api) -> None:
    mid = await new_measure(api, await new_plan(api))
    for header in ("first_name", "Surname", "Pupil Name", "name", "date_of_birth"):
        resp = await upload(
            api, mid, f"pupil_id,{header},phase,value\nA1,x,baseline,3\n", expect=422
        )
        assert resp["errors"][0]["loc"] == "body.header.2"
        assert "names or identifies" in resp["errors"][0]["msg"]
    # Unknown, repeated and missing columns are refused too; nothing is ever stored.
    resp = await upload(
        api, mid, "pupil_id,phase,value,class,value\nA1,baseline,3,5B,3\n", expect=422
    )
    assert [e["loc"] for e in resp["errors"]] == ["body.header.4", "body.header.5"]
    wide = "pupil_id,phase,value," + ",".join(f"c{i}" for i in range(40))
    resp = await upload(api, mid, wide + "\n", expect=422)
    assert resp["errors"] == [{"loc": "body.header", "msg": "too many columns"}]
    resp = await upload(api, mid, "pupil_id,value\nA1,3\n", expect=422)
    assert resp["errors"] == [{"loc": "body.header", "msg": "missing column phase"}]
    resp = await upload(api, mid, "person_id,phase,value\nx,baseline,3\n", expect=422)
    assert "pupil_id instead" in resp["errors"][0]["msg"]
    await upload(api, mid, "", expect=422)
    await upload(api, mid, b"pupil_id,phase,value\n\xff\xfe,baseline,3\n", expect=422)
    nul = await upload(api, mid, b"pupil_id,phase,value\nA1\x00,baseline,3\n", expect=422)
    assert "NUL" in nul["errors"][0]["msg"]
    assert await stored(demo) == 0


async def test_spreadsheet_exports_read_as_expected(demo: Stack, api: Api) -> None:
    """A byte-order mark, CRLF line ends, quoted cells, spaced or capitalised headers and
    blank trailing lines are what spreadsheets export: all read."""
    mid = await new_measure(api, await new_plan(api))
    body = (
        "\ufeffPupil ID,Phase,Value,Year Group\r\n"
        'A1,Short-term,"12.5","Year 6"\r\n'
        "a2,MEDIUM_TERM,7,\r\n"
        ",,,\r\n\r\n"
    )
    result = await upload(api, mid, body)
    assert result["phases"] == {"baseline": 0, "short_term": 1, "medium_term": 1}


async def test_staff_csv_takes_person_ids(demo: Stack, api: Api) -> None:
    plan = await new_plan(api)
    mid = await new_measure(
        api,
        plan,
        name="Confidence",
        kind="staff_confidence",
        subjects="staff",
        scale={"min": 1, "max": 5},
    )
    body = (
        "person_id,phase,value\n"
        f"{person_id('n-t1')},baseline,2\n"
        f"{person_id('r-t1')},baseline,2\n"
        "not-an-id,baseline,2\n"
    )
    resp = await upload(api, mid, body, expect=422)
    assert [e["loc"] for e in resp["errors"]] == ["body.rows.4.person_id", "body.rows.3.person_id"]
    await upload(api, mid, "person_id,phase,value\n" + f"{person_id('n-t1')},baseline,2\n")
    got = (await api.get(f"/v1/measures/{mid}/observations", "n-head"))["items"]
    assert [o["subject_key"] for o in got] == [person_id("n-t1")]
    # Governors and other trusts cannot upload.
    await upload(api, mid, body, who="n-gov", expect=403)
    await upload(api, mid, body, who="r-admin", expect=404)
    assert (await api.get(f"{PLANS}/{plan}/measures/{mid}", "n-head"))["observations"][
        "baseline"
    ] == 1
